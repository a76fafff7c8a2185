"""Tables of the bench scripts (models.sh, http.sh, chat.sh, transfer.sh):
the aligned text table they print and the markdown file they write, from
one header and rows of strings. `right` holds the indexes of the columns
aligned right (numbers). Imported by the scripts' embedded Python, run with
PYTHONPATH=bench."""


def text_table(head, rows, right):
    """The table as aligned text: header, a rule of dashes, one line a row."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_document(title, meta, head, rows, right):
    """A results file: '# title', the run's description (meta, whose
    literal "\\n" pairs, as the scripts pass it, become line breaks), then
    the table."""
    return "# %s\n\n%s\n\n%s" % (title, meta.replace("\\n", "\n"),
                                   markdown_table(head, rows, right))


def markdown_table(head, rows, right):
    """The table in markdown, right-aligned columns marked so; a '|' in a
    cell becomes '/'."""
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"
