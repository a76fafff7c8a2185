/* Unit tests for sk_conn_sendfile under the uring model: a server with a
 * small test service answers each "GET" line with a write, a file range
 * and another write, and a real client socket checks what arrives — in
 * order, whole (also 50 MiB), and a connection closed when the file is
 * shorter than the range. Skipped where io_uring is unavailable. Loopback
 * and ephemeral ports only; every wait is bounded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockkit/addr.h"
#include "sockkit/server.h"
#include "sockkit/service.h"
#include "server_fixture.h"

enum { WAIT_S = 10, MiB = 1024 * 1024 };

static const char HEAD[] = "head:";
static const char TAIL[] = ":tail";

/* What the service sends for each "GET": HEAD, the range, TAIL; with
 * twice set, a second range (the same one) and TAIL again after it. */
typedef struct file_job {
    char path[64];
    off_t offset;
    size_t len;
    bool twice;
    off_t truncate_to; /* >= 0: truncate the file right after queuing it */
} file_job;

/* Expected byte at position pos of the test file. */
static uint8_t pattern(uint64_t pos)
{
    return (uint8_t)(pos * 131 + (pos >> 9) + (pos >> 17));
}

/* ---- the test service ------------------------------------------------ */

static int send_range(sk_conn *c, const file_job *job)
{
    int fd = open(job->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = sk_conn_sendfile(c, fd, job->offset, job->len);
    close(fd); /* the connection holds its own reference */
    if (rc == 0 && job->truncate_to >= 0 && truncate(job->path, job->truncate_to) < 0)
        rc = -errno;
    return rc;
}

static int file_data(sk_conn *c, void *state, const uint8_t *data, size_t len)
{
    const file_job *job = sk_conn_context(c);
    size_t *seen = state; /* bytes of "GET\n" matched so far */
    for (size_t i = 0; i < len; i++) {
        if (data[i] != "GET\n"[*seen]) {
            *seen = 0;
            continue;
        }
        if (++*seen < 4)
            continue;
        *seen = 0;
        int rc = sk_conn_write(c, HEAD, strlen(HEAD));
        if (rc == 0)
            rc = send_range(c, job);
        if (rc == 0)
            rc = sk_conn_write(c, TAIL, strlen(TAIL));
        if (rc == 0 && job->twice)
            rc = send_range(c, job);
        if (rc == 0 && job->twice)
            rc = sk_conn_write(c, TAIL, strlen(TAIL));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const sk_service file_test_service = {
    .name = "filetest",
    .transports = SK_SERVICE_STREAM,
    .state_size = sizeof(size_t),
    .on_data = file_data,
};

/* ---- fixture --------------------------------------------------------- */

typedef struct fixture {
    sk_service service; /* a copy whose context is job */
    file_job job;
    sk_server *srv;
    struct sockaddr_in addr;
    int fds_before;
} fixture;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A temporary file of size bytes of pattern(). */
static void make_file(fixture *f, size_t size)
{
    snprintf(f->job.path, sizeof f->job.path, "/tmp/sk-uring-sendfile-XXXXXX");
    int fd = mkstemp(f->job.path);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(MiB);
    assert_non_null(buf);
    for (size_t done = 0; done < size;) {
        size_t n = size - done < MiB ? size - done : MiB;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(done + i);
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
        done += n;
    }
    free(buf);
    close(fd);
}

/* Start a uring server for job; false when io_uring is unavailable. */
static bool start_server(fixture *f)
{
    f->service = file_test_service;
    f->service.context = &f->job;
    sk_server_config cfg = {.model = SK_MODEL_URING};
    int rc = loopback_server_start(&f->srv, &cfg, &f->service, &f->addr);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES)
        return false;
    assert_int_equal(rc, 0);
    return true;
}

static int setup(void **st)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->job.truncate_to = -1;
    f->fds_before = count_fds();
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fixture *f = *st;
    if (f->srv)
        sk_server_destroy(f->srv);
    if (f->job.path[0])
        unlink(f->job.path);
    free(f);
    return 0;
}

/* Shut the server down and check every descriptor it took is closed. */
static void stop_server_check_fds(fixture *f)
{
    assert_int_equal(sk_server_shutdown(f->srv, 2000), 0);
    sk_server_destroy(f->srv);
    f->srv = NULL;
    assert_int_equal(count_fds(), f->fds_before);
}

/* ---- the client ------------------------------------------------------ */

static int client_connect(const fixture *f)
{
    return loopback_connect(&f->addr, WAIT_S * 1000);
}

/* Read len bytes of the file range and check them against pattern(). */
static void expect_range(int fd, off_t offset, size_t len)
{
    uint8_t *buf = malloc(MiB);
    assert_non_null(buf);
    for (size_t done = 0; done < len;) {
        size_t n = len - done < MiB ? len - done : MiB;
        assert_int_equal(loopback_read_exactly(fd, buf, n), n);
        for (size_t i = 0; i < n; i++)
            if (buf[i] != pattern((uint64_t)offset + done + i))
                fail_msg("byte %zu of the range differs", done + i);
        done += n;
    }
    free(buf);
}

/* Whether the server closes fd (EOF or reset) before more than max bytes
 * arrive; counts what did arrive in *got. */
static bool closed_after(int fd, size_t max, size_t *got)
{
    uint8_t buf[65536];
    *got = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false; /* timed out: still open */
        *got += (size_t)n;
        if (*got > max)
            return false;
    }
}

static void expect_eof(int fd)
{
    size_t got;
    assert_true(closed_after(fd, 0, &got));
    assert_int_equal(got, 0);
}

/* ---- tests ----------------------------------------------------------- */

#define START_OR_SKIP(f)                                                   \
    do {                                                                   \
        if (!start_server(f)) {                                            \
            print_message("io_uring unavailable here: skipped\n");        \
            skip();                                                        \
        }                                                                  \
    } while (0)

/* A whole small file between two writes, in order. */
static void test_whole_file_between_writes(void **st)
{
    fixture *f = *st;
    make_file(f, 100000);
    f->job.len = 100000;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\n");
    loopback_expect(fd, HEAD);
    expect_range(fd, 0, 100000);
    loopback_expect(fd, TAIL);
    shutdown(fd, SHUT_WR);
    expect_eof(fd);
    close(fd);
    stop_server_check_fds(f);
}

/* A range inside the file, twice per request, for two pipelined
 * requests: every piece in the order it was queued. */
static void test_ranges_keep_order(void **st)
{
    fixture *f = *st;
    make_file(f, 300000);
    f->job.offset = 12345;
    f->job.len = 200001;
    f->job.twice = true;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\nGET\n");
    for (int i = 0; i < 2; i++) {
        loopback_expect(fd, HEAD);
        expect_range(fd, 12345, 200001);
        loopback_expect(fd, TAIL);
        expect_range(fd, 12345, 200001);
        loopback_expect(fd, TAIL);
    }
    close(fd);
    stop_server_check_fds(f);
}

/* 50 MiB arrive whole and in order, read by a client slower than the
 * server (backpressure keeps the server's memory bounded). */
static void test_large_file(void **st)
{
    fixture *f = *st;
    make_file(f, 50 * (size_t)MiB);
    f->job.len = 50 * (size_t)MiB;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\n");
    loopback_expect(fd, HEAD);
    expect_range(fd, 0, 50 * (size_t)MiB);
    loopback_expect(fd, TAIL);
    close(fd);
    stop_server_check_fds(f);
}

/* A file shorter than offset + len: sk_conn_sendfile fails with -EIO,
 * the service returns it and the connection closes after HEAD. */
static void test_short_file_closes(void **st)
{
    fixture *f = *st;
    make_file(f, 1000);
    f->job.offset = 500;
    f->job.len = 501;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\n");
    loopback_expect(fd, HEAD);
    expect_eof(fd);
    close(fd);
    stop_server_check_fds(f);
}

/* A file that shrinks after the range was queued: the connection is
 * closed before the range (and TAIL) arrives. */
static void test_file_truncated_after_queuing_closes(void **st)
{
    fixture *f = *st;
    make_file(f, 4 * (size_t)MiB);
    f->job.len = 4 * (size_t)MiB;
    f->job.truncate_to = MiB;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\n");
    size_t got;
    assert_true(closed_after(fd, strlen(HEAD) + 4 * (size_t)MiB, &got));
    assert_true(got < strlen(HEAD) + 4 * (size_t)MiB);
    close(fd);
    stop_server_check_fds(f);
}

/* A peer that leaves in the middle of a large range: the connection ends
 * and the server keeps no descriptor of the file. */
static void test_peer_leaves_mid_file(void **st)
{
    fixture *f = *st;
    make_file(f, 50 * (size_t)MiB);
    f->job.len = 50 * (size_t)MiB;
    START_OR_SKIP(f);
    int fd = client_connect(f);
    loopback_send(fd, "GET\n");
    loopback_expect(fd, HEAD);
    expect_range(fd, 0, MiB);
    close(fd);
    /* another client is served meanwhile, and leaves too */
    fd = client_connect(f);
    loopback_send(fd, "GET\n");
    loopback_expect(fd, HEAD);
    expect_range(fd, 0, 1000);
    close(fd);
    stop_server_check_fds(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_file_between_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges_keep_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_file_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_truncated_after_queuing_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_leaves_mid_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
