/* File transfer: file system access confined to a root directory.
 *
 * Every path is resolved from the root's descriptor with openat2(2) and
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so neither ".." nor a symbolic
 * link (absolute or relative) can lead outside the root; the last component
 * of a name is then used with the *at() calls on its parent's descriptor
 * (single component: nothing more is resolved) and is never followed.
 * Every descriptor is O_CLOEXEC. Names are checked by the caller
 * (sk_file_name_check) first.
 *
 * Errors are negative errno values. -EXDEV (a name resolving outside the
 * root) and -ELOOP (a symbolic link where none may be, a magic link) mean
 * `badname` in the protocol (sk_file_errcode in file_msg.h). */
#ifndef SK_FILE_FS_H
#define SK_FILE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The suffix of partial uploads/downloads: NAME.part next to NAME. */
#define SK_PART_SUFFIX ".part"

/* What an entry is, in protocol words (sk_file_type_name). */
typedef enum sk_file_type {
    SK_FTYPE_FILE,    /* "file": a regular file */
    SK_FTYPE_DIR,     /* "dir" */
    SK_FTYPE_SYMLINK, /* "symlink" */
    SK_FTYPE_OTHER,   /* anything else (device, fifo, socket): never listed */
} sk_file_type;

/* One entry of a listing (or of a "list" message, see file_msg.h).
 * name: relative to the root; target: the link's text (symlinks only, else
 * NULL). In sk_fs_list results both are malloc'd; in parsed messages they
 * point into the message. */
typedef struct sk_file_entry {
    char *name;
    sk_file_type type;
    uint64_t size;   /* files only */
    uint32_t mode;   /* permission bits (st_mode & 07777) */
    int64_t mtime;   /* whole seconds since the epoch */
    char *target;
} sk_file_entry;

/* "file", "dir", "symlink" ("other" for SK_FTYPE_OTHER). */
const char *sk_file_type_name(sk_file_type type);

/* Parse "file", "dir" or "symlink". Returns 0 or -EINVAL. */
int sk_file_type_parse(const char *text, sk_file_type *type);

/* The type of a struct stat's st_mode. */
sk_file_type sk_file_type_of_mode(mode_t mode);

/* Create the directory path (and its parents, as mkdir -p; an existing one
 * is fine) and open it as a root: O_PATH | O_DIRECTORY | O_CLOEXEC.
 * This is the only call that takes an ordinary path (a local one).
 * Returns the descriptor or -errno (-ENOTDIR when path is not a directory). */
int sk_fs_open_root(const char *path);

/* Open name beneath root with openat2: flags as open(2) (O_CLOEXEC and
 * O_NOFOLLOW are always added: a symlink as the last component gives
 * -ELOOP), mode for O_CREAT. Intermediate symlinks are followed only while
 * they stay beneath root. "" opens the root itself (use O_DIRECTORY).
 * Returns the descriptor or -errno (-EXDEV, -ELOOP, -ENOENT, ...). */
int sk_fs_open(int root, const char *name, int flags, mode_t mode);

/* Open the directory that holds name's last component, beneath root, as
 * O_RDONLY | O_DIRECTORY (usable with the *at() calls and fsync), and set
 * *last to the last component inside name ("a/b/c" -> "c"; "c" -> the root
 * directory "." itself is opened). name must not be "".
 * Returns the descriptor or -errno. */
int sk_fs_open_parent(int root, const char *name, const char **last);

/* mkdir -p of name beneath root: each missing component is created with
 * mode (umask applies) in its parent's descriptor; an existing directory is
 * fine, anything else in the way gives -ENOTDIR (or -ELOOP for a symlink
 * leading outside). "" is the root: nothing to do.
 * Returns 0 or -errno. */
int sk_fs_mkdirs(int root, const char *name, mode_t mode);

/* mkdir -p of the directory that holds name ("a/b/c" -> "a/b"; nothing for
 * a name without '/'). Returns 0 or -errno. */
int sk_fs_mkdirs_parent(int root, const char *name, mode_t mode);

/* The partial file name of name: name + ".part" into out.
 * Returns 0 or -ENAMETOOLONG (whole name too long for out, or the last
 * component longer than SK_NAME_COMPONENT_MAX with the suffix: a name
 * whose last component is longer than 250 bytes cannot be transferred). */
int sk_fs_part_name(const char *name, char *out, size_t outlen);

/* 1 when name (a name or one component) ends with ".part", else 0. */
int sk_fs_is_part(const char *name);

/* fsync(2) with EINTR retried. Returns 0 or -errno. */
int sk_fs_fsync(int fd);

/* Start writing back (sync_file_range SYNC_FILE_RANGE_WRITE, not waiting)
 * the whole windows of SK_FS_WRITE_BEHIND bytes that a write of the bytes
 * [before, after) completed, so that the fsync at the end of a transfer
 * finds little left to write. Nothing to wait for, nothing reported: an
 * I/O error shows in that fsync. */
#define SK_FS_WRITE_BEHIND (8u * 1024u * 1024u)
void sk_fs_write_behind(int fd, uint64_t before, uint64_t after);

/* fsync the directory that holds name (after a rename or create).
 * Returns 0 or -errno. */
int sk_fs_fsync_parent(int root, const char *name);

/* Rename from -> to beneath root with renameat2: RENAME_NOREPLACE unless
 * overwrite (then an existing to is replaced atomically). Neither last
 * component is followed. Returns 0 or -errno (-EEXIST without overwrite). */
int sk_fs_rename(int root, const char *from, const char *to, bool overwrite);

/* Remove the file (not a directory) name beneath root. Returns 0 or -errno
 * (-ENOENT when it is not there). */
int sk_fs_unlink(int root, const char *name);

/* Set the permission bits (mode & 0777: set-id and sticky bits from a peer
 * are never applied) and the modification time (whole seconds; the access
 * time is set to now) of an open file, with fchmod and futimens.
 * Returns 0 or -errno. */
int sk_fs_set_meta(int fd, uint32_t mode, int64_t mtime);

/* Create a symbolic link name -> target beneath root, without following
 * anything at name. target is stored verbatim (it is never resolved here).
 * When name exists: a symlink with the same target is success; otherwise
 * -EEXIST unless overwrite, when an existing symlink or file is replaced
 * atomically (a link under a temporary name renamed over it); a directory
 * is never replaced (-EISDIR). Returns 0 or -errno. */
int sk_fs_symlink(int root, const char *name, const char *target, bool overwrite);

/* lstat of name beneath root (the last component is not followed);
 * "" gives the root itself. Returns 0 or -errno (-ENOENT). */
int sk_fs_stat(int root, const char *name, struct stat *st);

/* The target of symlink name beneath root, NUL-terminated into buf.
 * Returns its length, or -errno (-EINVAL when not a symlink,
 * -ENAMETOOLONG when buf is too small). */
ssize_t sk_fs_readlink(int root, const char *name, char *buf, size_t buflen);

/* Fill e from a stat (and the link target for symlinks) for name: the
 * strings are malloc'd (free with sk_fs_entry_free). Returns 0 or -errno. */
int sk_fs_entry_from(int root, const char *name, const struct stat *st, sk_file_entry *e);

/* Free the strings of one entry filled by sk_fs_entry_from/sk_fs_list. */
void sk_fs_entry_free(sk_file_entry *e);

/* List name beneath root, sorted by name (bytewise), symlinks not
 * followed, ".part" files, entries whose names break the name rules, links
 * whose targets are not UTF-8 text (sk_file_text_valid) and SK_FTYPE_OTHER
 * entries skipped:
 *   - a directory: itself (unless name is "", the root) and its entries,
 *     with their subdirectories' entries when recursive;
 *   - a file or a symlink: that one entry.
 * Names in the result are relative to root ("photos/a.jpg").
 * *out receives a malloc'd array of *count entries (free with
 * sk_fs_list_free). Returns 0 or -errno (-ENOENT, -EXDEV, -ENOMEM). */
int sk_fs_list(int root, const char *name, bool recursive, sk_file_entry **out, size_t *count);

/* Free a listing from sk_fs_list. */
void sk_fs_list_free(sk_file_entry *entries, size_t count);

#endif
