/*
 * Fast reader for large returns: the bytes of a return straight into the column buffers of the
 * tables described in tables.py, in one pass, without building a tree or a Python object per
 * element.
 *
 * It is an accelerator, not a parser of record. libxml2 (in the schema stage) decides whether the
 * file is well-formed; this reader only has to give the same tables as tables.stream() for every
 * file libxml2 accepts. Whenever it meets something it does not handle exactly the same way (an
 * encoding other than UTF-8, a DOCTYPE, a default namespace, an unknown entity, a lone carriage
 * return, tags that do not match...) it gives up and returns None, and the Python reader is used.
 * It never reads outside the buffer it is given, whatever the bytes.
 *
 * Lines are exact everywhere: the line of the '>' closing an element's start tag, as libxml2
 * records it (libxml2 only estimates lines after 65,535, which the Python reader inherits).
 *
 * Interface: read(data: bytes, spec: tuple) -> dict | None; see tables.py (_native_spec, read_bytes).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KIDS 16
#define MAX_KEYS 8
#define MAX_TABLES 32
#define MAX_DEPTH 4096
/* libxml2 refuses a text node longer than this (without its huge-tree option); so does this
 * reader, leaving the file to the Python reader, whose parser reports it. Counted as the bytes
 * between two element tags, which is at least the text node's length. */
#define MAX_TEXT 10000000

enum { KIND_GROUP = 0, KIND_TABLE = 1, KIND_FIELD = 2 };
enum { ROLE_ROOT, ROLE_CHILDREN, ROLE_NODE, ROLE_FIELD, ROLE_SKIP };

/* ---- growable buffers ------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int buf_append(Buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap && buf_reserve(b, n)) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Fixed-size appends, so the compiler copies in place instead of calling memcpy per value. */
static inline int buf_push_byte(Buf *b, char v) {
    if (b->len + 1 > b->cap && buf_reserve(b, 1)) return -1;
    b->data[b->len++] = v;
    return 0;
}

static inline int buf_push_i64(Buf *b, int64_t v) {
    if (b->len + sizeof v > b->cap && buf_reserve(b, sizeof v)) return -1;
    memcpy(b->data + b->len, &v, sizeof v);
    b->len += sizeof v;
    return 0;
}

static inline int buf_push_i32(Buf *b, int32_t v) {
    if (b->len + sizeof v > b->cap && buf_reserve(b, sizeof v)) return -1;
    memcpy(b->data + b->len, &v, sizeof v);
    b->len += sizeof v;
    return 0;
}

static void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- the spec: tables, their columns, and the element tree ------------------------------- */

typedef struct {
    Buf data;     /* int64 values, or the bytes of the strings */
    Buf offsets;  /* strings: int32 offsets, one more than rows */
    Buf valid;    /* one byte per row, packed into an Arrow bitmap at the end */
    int64_t nulls;
} Column;

typedef struct {
    int ncols;
    char *is_str;  /* per column */
    Column *cols;
    int64_t rows;  /* committed rows */
    int64_t ids;   /* ids given out (a row gets its id when its element starts) */
} Table;

typedef struct {
    const char *tag;
    Py_ssize_t tag_len;
    int kind, table, repeats, has_key, value;
    int text_col, line_col, group_col;
    int nkeys;                 /* TABLE: number of key columns (inherited keys, then its own) */
    int nkids;
    int kids[MAX_KIDS];
} Node;

/* A row being filled: one value slot per column. Strings are kept in the row's scratch buffer. */
typedef struct {
    int table;
    int64_t *ints;
    char *set;
    size_t *str_off, *str_len;
    Buf scratch;
} Row;

typedef struct {
    const char *name;
    size_t name_len;
    int role, node;
    Row *row;
    size_t path_len;
    int64_t keys[MAX_KEYS];
    int nkeys;
    int counts[MAX_KIDS];
} Frame;

typedef struct {
    int ntables;
    Table tables[MAX_TABLES];
    int nnodes;
    Node *nodes;
    int header_node, child_node;
    Row rows[MAX_TABLES];  /* the open row of each table (a table never nests inside itself) */
    Row fallback;          /* header values found directly under the root, used when there is no Header */
    Buf path;
    Buf text;              /* the text of the element being read */
    Row *text_row;         /* where that text goes, or NULL when no text is being gathered */
    int text_col;
    Frame *frames;
    int depth;
    /* where the line count has got to */
    const char *line_pos;
    int64_t line;
    int have_header, have_root, groups;
    /* Where each element directly inside Children starts and ends, for the schema worker. */
    int record_members, odd_members;
    Buf member_starts, member_ends;
    int64_t root_line, children_count;
    size_t group_path_len;
} Reader;

/* ---- rows ------------------------------------------------------------------------------- */

static int row_init(Row *row, Reader *r, int table) {
    int n = r->tables[table].ncols;
    row->table = table;
    row->ints = calloc(n, sizeof(int64_t));
    row->set = calloc(n, 1);
    row->str_off = calloc(n, sizeof(size_t));
    row->str_len = calloc(n, sizeof(size_t));
    memset(&row->scratch, 0, sizeof(Buf));
    return (row->ints && row->set && row->str_off && row->str_len) ? 0 : -1;
}

static void row_free(Row *row) {
    free(row->ints);
    free(row->set);
    free(row->str_off);
    free(row->str_len);
    buf_free(&row->scratch);
}

static void row_clear(Row *row, int ncols) {
    memset(row->set, 0, ncols);
    row->scratch.len = 0;
}

static int row_set_str(Row *row, int col, const char *p, size_t n) {
    row->str_off[col] = row->scratch.len;
    row->str_len[col] = n;
    row->set[col] = 1;
    return buf_append(&row->scratch, p, n);
}

static int row_commit(Reader *r, Row *row) {
    Table *t = &r->tables[row->table];
    for (int c = 0; c < t->ncols; c++) {
        Column *col = &t->cols[c];
        char valid = row->set[c];
        if (buf_push_byte(&col->valid, valid)) return -1;
        if (!valid) col->nulls++;
        if (t->is_str[c]) {
            if (valid && buf_append(&col->data, row->scratch.data + row->str_off[c], row->str_len[c])) return -1;
            if (col->data.len > INT32_MAX) return -1;
            if (buf_push_i32(&col->offsets, (int32_t)col->data.len)) return -1;
        } else {
            if (buf_push_i64(&col->data, valid ? row->ints[c] : 0)) return -1;
        }
    }
    t->rows++;
    return 0;
}

/* ---- text ------------------------------------------------------------------------------- */

static void count_lines(Reader *r, const char *upto) {
    const char *p = r->line_pos;
    while (p < upto) {
        const char *nl = memchr(p, '\n', upto - p);
        if (!nl) break;
        r->line++;
        p = nl + 1;
    }
    r->line_pos = upto;
}

static int put_utf8(Buf *b, uint32_t c) {
    char s[4];
    int n;
    if (c < 0x80) { s[0] = (char)c; n = 1; }
    else if (c < 0x800) { s[0] = (char)(0xC0 | (c >> 6)); s[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        s[0] = (char)(0xE0 | (c >> 12)); s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[2] = (char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        s[0] = (char)(0xF0 | (c >> 18)); s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((c >> 6) & 0x3F)); s[3] = (char)(0x80 | (c & 0x3F)); n = 4;
    }
    return buf_append(b, s, n);
}

static int is_xml_char(uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

/* Append character data with its line ends as the parser passes them (CR LF becomes LF). */
static int append_raw(Buf *b, const char *p, const char *end) {
    while (p < end) {
        const char *cr = memchr(p, '\r', end - p);
        const char *stop = cr ? cr : end;
        if (buf_append(b, p, stop - p)) return -1;
        if (!cr) break;
        p = cr + 1;  /* the LF after it is kept; a lone CR never gets here (checked up front) */
    }
    return 0;
}

/* Append text that may hold entity and character references. 1 = give up, -1 = no memory. */
static int append_text(Buf *b, const char *p, const char *end) {
    while (p < end) {
        const char *amp = memchr(p, '&', end - p);
        const char *stop = amp ? amp : end;
        if (append_raw(b, p, stop)) return -1;
        if (!amp) break;
        const char *semi = memchr(amp, ';', end - amp < 16 ? end - amp : 16);
        if (!semi) return 1;
        const char *name = amp + 1;
        size_t n = semi - name;
        if (n >= 2 && name[0] == '#') {
            uint32_t c = 0;
            const char *d = name + 1;
            int hex = (*d == 'x');
            if (hex) d++;
            if (d == semi) return 1;
            for (; d < semi; d++) {
                int v;
                if (*d >= '0' && *d <= '9') v = *d - '0';
                else if (hex && *d >= 'a' && *d <= 'f') v = *d - 'a' + 10;
                else if (hex && *d >= 'A' && *d <= 'F') v = *d - 'A' + 10;
                else return 1;
                c = c * (hex ? 16 : 10) + v;
                if (c > 0x10FFFF) return 1;
            }
            if (!is_xml_char(c)) return 1;
            if (put_utf8(b, c)) return -1;
        } else {
            char c;
            if (n == 2 && !memcmp(name, "lt", 2)) c = '<';
            else if (n == 2 && !memcmp(name, "gt", 2)) c = '>';
            else if (n == 3 && !memcmp(name, "amp", 3)) c = '&';
            else if (n == 4 && !memcmp(name, "apos", 4)) c = '\'';
            else if (n == 4 && !memcmp(name, "quot", 4)) c = '"';
            else return 1;
            if (buf_append(b, &c, 1)) return -1;
        }
        p = semi + 1;
    }
    return 0;
}

/* Python's str.strip() whitespace, in UTF-8: the code point of a space at p, or 0. */
static int space_len_forward(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
    if (c == 0xC2 && end - p >= 2 && (p[1] == 0x85 || p[1] == 0xA0)) return 2;
    if (c == 0xE1 && end - p >= 3 && p[1] == 0x9A && p[2] == 0x80) return 3;  /* U+1680 */
    if (c == 0xE2 && end - p >= 3) {
        if (p[1] == 0x80 && (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF)) return 3;
        if (p[1] == 0x81 && p[2] == 0x9F) return 3;  /* U+205F */
    }
    if (c == 0xE3 && end - p >= 3 && p[1] == 0x80 && p[2] == 0x80) return 3;  /* U+3000 */
    return 0;
}

static int space_len_backward(const unsigned char *start, const unsigned char *end) {
    const unsigned char *p = end - 1;
    if (p < start) return 0;
    if (*p < 0x80) return space_len_forward(p, end);
    /* step back to the first byte of the last character (at most four bytes) */
    int n = 1;
    while (n < 4 && p > start && (*p & 0xC0) == 0x80) { p--; n++; }
    return space_len_forward(p, end) == n ? n : 0;
}

/* The gathered text, trimmed, becomes the value of its column (none when nothing is left). */
static int finish_text(Reader *r) {
    if (!r->text_row) return 0;
    const unsigned char *s = (const unsigned char *)r->text.data, *e = s + r->text.len;
    int k;
    while (s < e && (k = space_len_forward(s, e)) > 0) s += k;
    while (e > s && (k = space_len_backward(s, e)) > 0) e -= k;
    int rc = 0;
    if (e > s) rc = row_set_str(r->text_row, r->text_col, (const char *)s, e - s);
    r->text_row = NULL;
    r->text.len = 0;
    return rc;
}

static void start_text(Reader *r, Row *row, int col) {
    r->text_row = row;
    r->text_col = col;
    r->text.len = 0;
}

/* ---- elements --------------------------------------------------------------------------- */

static int path_push(Reader *r, const char *name, size_t n, int64_t index) {
    if (buf_push_byte(&r->path, '/') || buf_append(&r->path, name, n)) return -1;
    if (index > 0) {
        char digits[24];
        int k = 0;
        while (index > 0 && k < 20) { digits[k++] = (char)('0' + index % 10); index /= 10; }
        if (buf_push_byte(&r->path, '[')) return -1;
        while (k > 0) if (buf_push_byte(&r->path, digits[--k])) return -1;
        if (buf_push_byte(&r->path, ']')) return -1;
    }
    return 0;
}

/* Start a row of `node`'s table; its id is given now, so ids follow the order rows start in. */
static int open_row(Reader *r, Frame *f, int node, int64_t line, const int64_t *keys, int nkeys) {
    Node *n = &r->nodes[node];
    Table *t = &r->tables[n->table];
    Row *row = &r->rows[n->table];
    row_clear(row, t->ncols);
    int64_t id = ++t->ids;
    row->ints[0] = id; row->set[0] = 1;
    row->ints[1] = line; row->set[1] = 1;
    if (row_set_str(row, 2, r->path.data, r->path.len)) return -1;
    f->nkeys = 0;
    for (int k = 0; k < nkeys && f->nkeys < MAX_KEYS; k++) f->keys[f->nkeys++] = keys[k];
    if (n->has_key && f->nkeys < MAX_KEYS) f->keys[f->nkeys++] = id;
    for (int k = 0; k < n->nkeys && k < f->nkeys; k++) {
        row->ints[3 + k] = f->keys[k];
        row->set[3 + k] = 1;
    }
    if (n->value) {
        row->ints[n->line_col] = line;
        row->set[n->line_col] = 1;
        start_text(r, row, n->text_col);
    }
    f->row = row;
    f->role = ROLE_NODE;
    f->node = node;
    return 0;
}

static int find_kid(Reader *r, int node, const char *name, size_t len) {
    Node *n = &r->nodes[node];
    for (int k = 0; k < n->nkids; k++) {
        Node *kid = &r->nodes[n->kids[k]];
        if ((size_t)kid->tag_len == len && !memcmp(kid->tag, name, len)) return k;
    }
    return -1;
}

/* An element of `parent` read as one of the members of `parent->node` (into the row it fills). */
static int member(Reader *r, Frame *parent, Frame *f, const char *name, size_t len, int64_t line) {
    int k = find_kid(r, parent->node, name, len);
    if (k < 0) return 0;
    int count = ++parent->counts[k];
    int node = r->nodes[parent->node].kids[k];
    Node *n = &r->nodes[node];
    if (n->kind == KIND_FIELD) {
        Row *row = parent->row;
        if (row->set[n->line_col]) return 0;  /* a repeated single field: the first one counts */
        row->ints[n->line_col] = line;
        row->set[n->line_col] = 1;
        f->role = ROLE_FIELD;
        start_text(r, row, n->text_col);
        return 0;
    }
    if (n->kind == KIND_GROUP) {
        if (count != 1) return 0;
        parent->row->ints[n->group_col] = line;
        parent->row->set[n->group_col] = 1;
        if (path_push(r, name, len, 0)) return -1;
        f->role = ROLE_NODE;
        f->node = node;
        f->row = parent->row;
        f->nkeys = parent->nkeys;
        memcpy(f->keys, parent->keys, sizeof f->keys);
        return 0;
    }
    if (path_push(r, name, len, n->repeats ? count : 0)) return -1;
    return open_row(r, f, node, line, parent->keys, parent->nkeys);
}

static int start_element(Reader *r, const char *name, size_t len, int64_t line) {
    if (finish_text(r)) return -1;  /* an element ends the text of the element holding it */
    if (r->depth >= MAX_DEPTH) return 1;
    Frame *f = &r->frames[r->depth];
    Frame *parent = r->depth ? &r->frames[r->depth - 1] : NULL;
    memset(f, 0, sizeof *f);
    f->name = name;
    f->name_len = len;
    f->role = ROLE_SKIP;
    f->node = -1;
    f->path_len = r->path.len;
    r->depth++;
    if (!parent) {
        if (r->have_root) return 1;  /* a second root element: not well-formed */
        r->have_root = 1;
        r->root_line = line;
        f->role = ROLE_ROOT;
        f->node = r->header_node;  /* header values directly under the root, kept aside */
        f->row = &r->fallback;
        r->path.len = 0;
        return buf_append(&r->path, "/Message", 8);
    }
    switch (parent->role) {
    case ROLE_ROOT:
        if (len == 6 && !memcmp(name, "Header", 6)) {
            if (r->have_header) return 0;
            r->have_header = 1;
            if (path_push(r, name, len, 0)) return -1;
            return open_row(r, f, r->header_node, line, NULL, 0);
        }
        if (len == 8 && !memcmp(name, "Children", 8)) {
            r->groups++;
            if (path_push(r, name, len, r->groups > 1 ? r->groups : 0)) return -1;
            r->children_count = 0;
            f->role = ROLE_CHILDREN;
            return 0;
        }
        return member(r, parent, f, name, len, line);
    case ROLE_CHILDREN:
        if (len == 5 && !memcmp(name, "Child", 5)) {
            if (path_push(r, name, len, ++r->children_count)) return -1;
            return open_row(r, f, r->child_node, line, NULL, 0);
        }
        return 0;
    case ROLE_NODE:
        return member(r, parent, f, name, len, line);
    default:
        return 0;
    }
}

static int end_element(Reader *r, const char *name, size_t len) {
    if (r->depth == 0) return 1;
    Frame *f = &r->frames[r->depth - 1];
    if (f->name_len != len || memcmp(f->name, name, len)) return 1;  /* mismatched end tag */
    if (finish_text(r)) return -1;
    if (f->role == ROLE_NODE && r->nodes[f->node].kind == KIND_TABLE) {
        if (row_commit(r, f->row)) return -1;
    }
    r->path.len = f->path_len;
    r->depth--;
    return 0;
}

/* ---- the scanner ------------------------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Whole-file checks: no NUL byte, well-formed UTF-8, no carriage return without a line feed. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

static int plain_utf8(const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        /* eight bytes at a time while they are ASCII with no NUL and no carriage return */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if ((w & HIGHS) || HAS_ZERO(w) || HAS_ZERO(w ^ (ONES * '\r'))) break;
            p += 8;
        }
        if (p >= end) break;
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80) { p++; continue; }
        if (c == 0) return 0;
        if (c < 0x80) {
            if (c == '\r' && (p + 1 >= end || p[1] != '\n')) return 0;
            p++;
            continue;
        }
        int n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        if (end - p <= n) return 0;
        for (int k = 1; k <= n; k++) {
            if ((p[k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n + 1;
    }
    return 1;
}

static const char *find2(const char *p, const char *end, const char *pat, size_t n) {
    while (p + n <= end) {
        const char *hit = memchr(p, pat[0], end - p - n + 1);
        if (!hit) return NULL;
        if (!memcmp(hit, pat, n)) return hit;
        p = hit + 1;
    }
    return NULL;
}

/* The XML declaration may only name UTF-8 (or nothing) for this reader to go on. */
static int declaration_ok(const char *p, const char *end) {
    const char *enc = find2(p, end, "encoding", 8);
    if (!enc) return 1;
    enc += 8;
    while (enc < end && is_blank(*enc)) enc++;
    if (enc >= end || *enc != '=') return 0;
    enc++;
    while (enc < end && is_blank(*enc)) enc++;
    if (enc >= end || (*enc != '"' && *enc != '\'')) return 0;
    char q = *enc++;
    const char *close = memchr(enc, q, end - enc);
    if (!close || close - enc != 5) return 0;
    return (enc[0] | 0x20) == 'u' && (enc[1] | 0x20) == 't' && (enc[2] | 0x20) == 'f' && enc[3] == '-' && enc[4] == '8';
}

static int in_children(Reader *r) {
    return r->depth >= 2 && r->frames[r->depth - 2].role == ROLE_CHILDREN;
}

/* 0 = done, 1 = give up (use the Python reader), -1 = out of memory. */
static int scan(Reader *r, const char *p, const char *end) {
    const char *start = p;
    if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
        p += 3;
        start = p;
    }
    r->line_pos = p;
    r->line = 1;
    const char *last_tag = p;  /* just after the last element tag */
    while (p < end) {
        const char *lt = memchr(p, '<', end - p);
        const char *stop = lt ? lt : end;
        if (r->text_row) {
            int rc = append_text(&r->text, p, stop);
            if (rc) return rc;
        }
        if (!lt) break;
        p = lt;
        if (end - p < 2) return 1;
        if ((p[1] == '/' || (p[1] != '!' && p[1] != '?')) && p - last_tag > MAX_TEXT) return 1;
        if (p[1] == '/') {
            const char *name = p + 2;
            const char *gt = memchr(name, '>', end - name);
            if (!gt) return 1;
            const char *e = gt;
            while (e > name && is_blank(e[-1])) e--;
            int member = r->record_members && in_children(r);
            int rc = end_element(r, name, e - name);
            if (rc) return rc;
            p = gt + 1;
            last_tag = p;
            if (member && buf_push_i64(&r->member_ends, p - start)) return -1;
        } else if (p[1] == '!') {
            if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
                const char *close = find2(p + 4, end, "-->", 3);
                if (!close) return 1;
                p = close + 3;
            } else if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
                if (r->depth == 0) return 1;
                const char *close = find2(p + 9, end, "]]>", 3);
                if (!close) return 1;
                if (r->text_row && append_raw(&r->text, p + 9, close)) return -1;
                p = close + 3;
            } else {
                return 1;  /* a DOCTYPE or something else this reader does not handle */
            }
        } else if (p[1] == '?') {
            const char *close = find2(p + 2, end, "?>", 2);
            if (!close) return 1;
            if (p == start && end - p >= 6 && !memcmp(p, "<?xml", 5) && is_blank(p[5]) && !declaration_ok(p, close))
                return 1;
            p = close + 2;
        } else {
            const char *name = p + 1, *q = name;
            while (q < end && !is_blank(*q) && *q != '>' && *q != '/') q++;
            if (q == name || q >= end) return 1;
            size_t len = q - name;
            int empty = 0;
            for (;;) {
                while (q < end && is_blank(*q)) q++;
                if (q >= end) return 1;
                if (*q == '>') break;
                if (*q == '/') {
                    if (q + 1 >= end || q[1] != '>') return 1;
                    empty = 1;
                    break;
                }
                const char *attr = q;
                while (q < end && !is_blank(*q) && *q != '=' && *q != '>' && *q != '/') q++;
                if (q - attr == 5 && !memcmp(attr, "xmlns", 5)) return 1;  /* a default namespace */
                if (q == attr) return 1;
                while (q < end && is_blank(*q)) q++;
                if (q >= end || *q != '=') return 1;
                q++;
                while (q < end && is_blank(*q)) q++;
                if (q >= end || (*q != '"' && *q != '\'')) return 1;
                const char *close = memchr(q + 1, *q, end - q - 1);
                if (!close) return 1;
                q = close + 1;
            }
            count_lines(r, q);
            int rc = start_element(r, name, len, r->line);
            if (rc) return rc;
            int member = r->record_members && in_children(r);
            if (member) {
                if (buf_push_i64(&r->member_starts, p - start)) return -1;
                if (r->frames[r->depth - 1].role != ROLE_NODE) r->odd_members = 1;  /* not a Child */
            }
            if (empty) {
                rc = end_element(r, name, len);
                if (rc) return rc;
                q++;
            }
            p = q + 1;
            last_tag = p;
            if (member && empty && buf_push_i64(&r->member_ends, p - start)) return -1;
        }
    }
    if (r->depth != 0 || !r->have_root) return 1;
    if (!r->have_header) {
        /* no Header: one header row all the same, at the root, so header rules can report it */
        Row *row = &r->fallback;
        Table *t = &r->tables[row->table];
        row->ints[0] = ++t->ids; row->set[0] = 1;
        row->ints[1] = r->root_line; row->set[1] = 1;
        if (row_set_str(row, 2, "/Message", 8)) return -1;
        if (row_commit(r, row)) return -1;
    }
    return 0;
}

/* ---- Python interface ------------------------------------------------------------------- */

static PyObject *pack_valid(Column *col, int64_t rows) {
    if (col->nulls == 0) Py_RETURN_NONE;
    Py_ssize_t n = (Py_ssize_t)((rows + 7) / 8);
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, n);
    if (!bytes) return NULL;
    unsigned char *bits = (unsigned char *)PyBytes_AS_STRING(bytes);
    memset(bits, 0, n);
    for (int64_t i = 0; i < rows; i++)
        if (col->valid.data[i]) bits[i >> 3] |= (unsigned char)(1u << (i & 7));
    return bytes;
}

static PyObject *column_result(Table *t, int c) {
    Column *col = &t->cols[c];
    PyObject *valid = pack_valid(col, t->rows);
    if (!valid) return NULL;
    PyObject *data = PyBytes_FromStringAndSize(col->data.data ? col->data.data : "", (Py_ssize_t)col->data.len);
    buf_free(&col->data);
    if (!data) { Py_DECREF(valid); return NULL; }
    if (!t->is_str[c]) return Py_BuildValue("(NN)", valid, data);
    PyObject *offsets = PyBytes_FromStringAndSize(col->offsets.data ? col->offsets.data : "",
                                                  (Py_ssize_t)col->offsets.len);
    if (!offsets) { Py_DECREF(valid); Py_DECREF(data); return NULL; }
    return Py_BuildValue("(NNN)", valid, offsets, data);
}

static void reader_free(Reader *r) {
    for (int t = 0; t < r->ntables; t++) {
        Table *table = &r->tables[t];
        for (int c = 0; c < table->ncols && table->cols; c++) {
            buf_free(&table->cols[c].data);
            buf_free(&table->cols[c].offsets);
            buf_free(&table->cols[c].valid);
        }
        free(table->cols);
        free(table->is_str);
        row_free(&r->rows[t]);
    }
    row_free(&r->fallback);
    free(r->nodes);
    free(r->frames);
    buf_free(&r->path);
    buf_free(&r->text);
    buf_free(&r->member_starts);
    buf_free(&r->member_ends);
}

static int int_item(PyObject *tuple, Py_ssize_t i, int *out) {
    long v = PyLong_AsLong(PyTuple_GET_ITEM(tuple, i));
    if (v == -1 && PyErr_Occurred()) return -1;
    *out = (int)v;
    return 0;
}

/* spec = (tables, nodes, header_node, child_node)
 *   tables: tuple of column-kind strings, one per table ("i" = int64, "s" = string per column;
 *           columns 0-2 are id, line, path, then the key columns)
 *   nodes:  tuple of (tag, kind, table, repeats, has_key, value, text_col, line_col, group_col,
 *                     nkeys, kids) */
static int load_spec(Reader *r, PyObject *spec) {
    PyObject *tables, *nodes;
    int header_node, child_node;
    if (!PyArg_ParseTuple(spec, "O!O!ii", &PyTuple_Type, &tables, &PyTuple_Type, &nodes, &header_node, &child_node))
        return -1;
    r->ntables = (int)PyTuple_GET_SIZE(tables);
    r->nnodes = (int)PyTuple_GET_SIZE(nodes);
    if (r->ntables > MAX_TABLES || header_node < 0 || header_node >= r->nnodes || child_node < 0 ||
        child_node >= r->nnodes) {
        PyErr_SetString(PyExc_ValueError, "bad table spec");
        return -1;
    }
    for (int t = 0; t < r->ntables; t++) {
        Py_ssize_t n;
        const char *kinds = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(tables, t), &n);
        if (!kinds) return -1;
        Table *table = &r->tables[t];
        table->ncols = (int)n;
        table->is_str = calloc(n ? n : 1, 1);
        table->cols = calloc(n ? n : 1, sizeof(Column));
        if (!table->is_str || !table->cols || row_init(&r->rows[t], r, t)) { PyErr_NoMemory(); return -1; }
        for (Py_ssize_t c = 0; c < n; c++) {
            table->is_str[c] = kinds[c] == 's';
            int32_t zero = 0;  /* Arrow string offsets start with the start of the first string */
            if (table->is_str[c] && buf_append(&table->cols[c].offsets, &zero, sizeof zero)) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    r->nodes = calloc(r->nnodes ? r->nnodes : 1, sizeof(Node));
    if (!r->nodes) { PyErr_NoMemory(); return -1; }
    for (int i = 0; i < r->nnodes; i++) {
        PyObject *item = PyTuple_GET_ITEM(nodes, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 11) {
            PyErr_SetString(PyExc_ValueError, "bad node spec");
            return -1;
        }
        Node *n = &r->nodes[i];
        n->tag = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(item, 0), &n->tag_len);
        if (!n->tag) return -1;
        int *fields[] = {&n->kind, &n->table, &n->repeats, &n->has_key, &n->value, &n->text_col, &n->line_col,
                         &n->group_col, &n->nkeys};
        for (int k = 0; k < 9; k++)
            if (int_item(item, k + 1, fields[k])) return -1;
        PyObject *kids = PyTuple_GET_ITEM(item, 10);
        if (!PyTuple_Check(kids) || PyTuple_GET_SIZE(kids) > MAX_KIDS || n->table < 0 || n->table >= r->ntables ||
            n->nkeys > MAX_KEYS) {
            PyErr_SetString(PyExc_ValueError, "bad node spec");
            return -1;
        }
        n->nkids = (int)PyTuple_GET_SIZE(kids);
        for (int k = 0; k < n->nkids; k++) {
            if (int_item(kids, k, &n->kids[k])) return -1;
            if (n->kids[k] < 0 || n->kids[k] >= r->nnodes) {
                PyErr_SetString(PyExc_ValueError, "bad node spec");
                return -1;
            }
        }
        int ncols = r->tables[n->table].ncols;
        if (n->text_col >= ncols || n->line_col >= ncols || n->group_col >= ncols || 3 + n->nkeys > ncols ||
            ncols < 3) {
            PyErr_SetString(PyExc_ValueError, "bad node spec");
            return -1;
        }
    }
    r->header_node = header_node;
    r->child_node = child_node;
    if (row_init(&r->fallback, r, r->nodes[header_node].table)) { PyErr_NoMemory(); return -1; }
    r->frames = calloc(MAX_DEPTH, sizeof(Frame));
    if (!r->frames) { PyErr_NoMemory(); return -1; }
    return 0;
}

/* Load the spec and scan the bytes (without the GIL): 0 = read, 1 = declined, -1 = a Python
 * error is set. */
static int read_into(Reader *r, Py_buffer *view, PyObject *spec) {
    if (load_spec(r, spec)) return -1;
    const char *data = view->buf, *end = data + view->len;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = plain_utf8((const unsigned char *)data, (const unsigned char *)end) ? scan(r, data, end) : 1;
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return rc;
}

static PyObject *tables_read(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *spec;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &spec)) return NULL;
    Reader r;
    memset(&r, 0, sizeof r);
    PyObject *result = NULL;
    int rc = read_into(&r, &view, spec);
    if (rc < 0) goto done;
    if (rc > 0) { result = Py_NewRef(Py_None); goto done; }
    result = PyList_New(r.ntables);
    if (!result) goto done;
    for (int t = 0; t < r.ntables; t++) {
        Table *table = &r.tables[t];
        PyObject *columns = PyList_New(table->ncols);
        if (!columns) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, t, Py_BuildValue("(LN)", (long long)table->rows, columns));
        for (int c = 0; c < table->ncols; c++) {
            PyObject *column = column_result(table, c);
            if (!column) { Py_CLEAR(result); goto done; }
            PyList_SET_ITEM(columns, c, column);
        }
    }
done:
    reader_free(&r);
    PyBuffer_Release(&view);
    return result;
}

/* members(data, spec) -> (starts, ends, groups, only_children) | None
 * The byte offsets (from the start of the document, after any byte order mark) at which each
 * element directly inside the first Children starts ('<') and ends (after its end tag), as int64
 * buffers; the number of Children groups; whether every one of those elements is a Child. */
static PyObject *tables_members(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *spec;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &spec)) return NULL;
    Reader r;
    memset(&r, 0, sizeof r);
    r.record_members = 1;
    PyObject *result = NULL;
    int rc = read_into(&r, &view, spec);
    if (rc < 0) goto done;
    if (rc > 0 || r.member_starts.len != r.member_ends.len) { result = Py_NewRef(Py_None); goto done; }
    result = Py_BuildValue("(y#y#iO)", r.member_starts.data ? r.member_starts.data : "", (Py_ssize_t)r.member_starts.len,
                           r.member_ends.data ? r.member_ends.data : "", (Py_ssize_t)r.member_ends.len, r.groups,
                           r.odd_members ? Py_False : Py_True);
done:
    reader_free(&r);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"read", tables_read, METH_VARARGS, "Read a return's bytes into column buffers, or None to use the Python reader."},
    {"members", tables_members, METH_VARARGS, "Byte spans of the elements inside Children, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tables", NULL, -1, methods};

PyMODINIT_FUNC PyInit__tables(void) { return PyModule_Create(&module); }
