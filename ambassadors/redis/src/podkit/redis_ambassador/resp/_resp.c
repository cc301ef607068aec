/*
 * _resp.c -- the hot loops of podkit.redis_ambassador.resp, in C.
 *
 * Owns three types that stand in for the pure-Python classes of scanner.py when this module
 * imports (scanner.py picks the implementation; PODKIT_RESP_PURE=1 forces Python):
 *
 *   Command        one client command: args, name (args[0].lower()), start, end (-1: inline).
 *   RequestScanner client bytes -> Command objects. RESP multibulk frames are scanned here,
 *                  including incomplete-frame buffering, every limit and every error; an inline
 *                  line (redis-cli, telnet) is handed to scanner._scan_inline and scanning goes on.
 *   ReplyScanner   the end offset of each complete top-level RESP2/RESP3 reply in an upstream's
 *                  stream (push frames negated), the incomplete tail buffered.
 *
 * Behaviour, limits and error messages are exactly those of the Python classes (the tests run
 * both and compare them byte for byte). Header integers are parsed like Redis's string2ll.
 * resp/__init__.py calls setup(ProtocolError, _scan_inline) once at import, before any scanner is made.
 * Only the CPython C API is used; no other runtime dependency.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <limits.h>
#include <string.h>

#define BIG_HEADER (64 * 1024) /* scanner._BIG_HEADER: longest "*N" / "$N" line awaited */
#define LONG_STR_SIZE 21       /* Redis: longest accepted integer string is 20 bytes */
#define LOCAL_SPANS 32         /* argument offsets kept on the stack before using the heap */

static PyObject *protocol_error; /* scanner.ProtocolError */
static PyObject *scan_inline;    /* scanner._scan_inline(src, pos, max_inline) -> (next, words) */

/* ---- helpers --------------------------------------------------------------------------------- */

/* Redis's string2ll (util.c): optional '-', no '+', no leading zeros except "0", no spaces,
 * at most 20 bytes, overflow rejected. Returns 1 and sets *value, or 0. */
static int
parse_ll(const char *p, Py_ssize_t len, long long *value)
{
    Py_ssize_t i = 0;
    int negative = 0;
    unsigned long long v;

    if (len <= 0 || len >= LONG_STR_SIZE)
        return 0;
    if (len == 1 && p[0] == '0') {
        *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        i = 1;
        if (i == len)
            return 0;
    }
    if (p[i] < '1' || p[i] > '9')
        return 0;
    v = (unsigned long long)(p[i] - '0');
    for (i++; i < len; i++) {
        unsigned long long d;
        if (p[i] < '0' || p[i] > '9')
            return 0;
        d = (unsigned long long)(p[i] - '0');
        if (v > ULLONG_MAX / 10)
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - d)
            return 0;
        v += d;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *value = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    }
    else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *value = (long long)v;
    }
    return 1;
}

/* Offset of the first "\r\n" in s[from:end], or -1 (bytes.find(b"\r\n", from)). */
static Py_ssize_t
find_crlf(const char *s, Py_ssize_t from, Py_ssize_t end)
{
    while (from < end - 1) {
        const char *p = memchr(s + from, '\r', (size_t)(end - 1 - from));
        Py_ssize_t i;
        if (p == NULL)
            return -1;
        i = p - s;
        if (s[i + 1] == '\n')
            return i;
        from = i + 1;
    }
    return -1;
}

/* a + b for a >= 0, b >= 0, saturating at LLONG_MAX (a "need" that can never be reached). */
static long long
add_sat(long long a, long long b)
{
    return b > LLONG_MAX - a ? LLONG_MAX : a + b;
}

/* A new ProtocolError instance with this message (NULL with an exception set on failure). */
static PyObject *
new_error(const char *message)
{
    return PyObject_CallFunction(protocol_error, "s", message);
}

static PyObject *
new_error_obj(PyObject *message)
{
    PyObject *exc;
    if (message == NULL)
        return NULL;
    exc = PyObject_CallOneArg(protocol_error, message);
    Py_DECREF(message);
    return exc;
}

/* Takes the exception being raised (its traceback attached, as `except ... as exc` has it). */
static PyObject *
take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* (b"", []): nothing scanned yet. */
static PyObject *
nothing_scanned(void)
{
    return Py_BuildValue("(yN)", "", PyList_New(0));
}

/* New reference to arg.lower(); arg itself when it is bytes without an upper-case letter. */
static PyObject *
lower_name(PyObject *arg)
{
    const char *p;
    char *q;
    Py_ssize_t i, n;
    PyObject *out;

    if (!PyBytes_CheckExact(arg))
        return PyObject_CallMethod(arg, "lower", NULL);
    p = PyBytes_AS_STRING(arg);
    n = PyBytes_GET_SIZE(arg);
    for (i = 0; i < n; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            break;
    if (i == n)
        return Py_NewRef(arg);
    /* a fresh object (with a source, a 1-byte result would be CPython's shared cached one) */
    out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL)
        return NULL;
    q = PyBytes_AS_STRING(out);
    memcpy(q, p, (size_t)n);
    for (; i < n; i++)
        if (q[i] >= 'A' && q[i] <= 'Z')
            q[i] = (char)(q[i] + ('a' - 'A'));
    return out;
}

/* ---- a growable byte buffer for the incomplete tail ------------------------------------------ */

typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buffer;

#define BUFFER_KEEP (1024 * 1024) /* capacity above this is given back once the frame is done */

static int
buffer_reserve(Buffer *b, Py_ssize_t need)
{
    Py_ssize_t cap;
    char *p;
    if (need <= b->cap)
        return 0;
    cap = b->cap > 0 ? b->cap : 256;
    while (cap < need)
        cap = cap > PY_SSIZE_T_MAX / 2 ? need : cap * 2;
    p = PyMem_Realloc(b->data, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static void
buffer_free(Buffer *b)
{
    PyMem_Free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Replaces the content with s[:n]; s must not point into the buffer. */
static int
buffer_set(Buffer *b, const char *s, Py_ssize_t n)
{
    if (b->cap > BUFFER_KEEP && n < b->cap / 4)
        buffer_free(b);
    b->len = 0;
    if (n == 0)
        return 0;
    if (buffer_reserve(b, n) < 0)
        return -1;
    memcpy(b->data, s, (size_t)n);
    b->len = n;
    return 0;
}

static int
buffer_append(Buffer *b, const char *s, Py_ssize_t n)
{
    if (n > PY_SSIZE_T_MAX - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    if (buffer_reserve(b, b->len + n) < 0)
        return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* The bytes to scan: data itself when nothing is buffered, else buffer + data (new refs). */
static PyObject *
joined(Buffer *b, PyObject *data)
{
    Py_ssize_t dlen = PyBytes_GET_SIZE(data);
    PyObject *src;
    if (b->len == 0)
        return Py_NewRef(data);
    if (dlen > PY_SSIZE_T_MAX - b->len)
        return PyErr_NoMemory();
    src = PyBytes_FromStringAndSize(NULL, b->len + dlen);
    if (src == NULL)
        return NULL;
    memcpy(PyBytes_AS_STRING(src), b->data, (size_t)b->len);
    memcpy(PyBytes_AS_STRING(src) + b->len, PyBytes_AS_STRING(data), (size_t)dlen);
    return src;
}

/* data as exact bytes (new reference). */
static PyObject *
as_bytes(PyObject *data)
{
    if (PyBytes_CheckExact(data))
        return Py_NewRef(data);
    return PyBytes_FromObject(data);
}

/* ---- Command --------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *args;
    PyObject *name;
    Py_ssize_t start;
    Py_ssize_t end;
} CommandObject;

static PyTypeObject CommandType;

/* A new Command; steals the references to args and name (also on failure). */
static PyObject *
command_make(PyObject *args, PyObject *name, Py_ssize_t start, Py_ssize_t end)
{
    CommandObject *cmd = PyObject_GC_New(CommandObject, &CommandType);
    if (cmd == NULL) {
        Py_DECREF(args);
        Py_DECREF(name);
        return NULL;
    }
    cmd->args = args;
    cmd->name = name;
    cmd->start = start;
    cmd->end = end;
    PyObject_GC_Track(cmd);
    return (PyObject *)cmd;
}

static PyObject *
command_new(PyTypeObject *type, PyObject *a, PyObject *kw)
{
    static char *kwlist[] = {"args", "start", "end", NULL};
    PyObject *args, *zero, *first, *name;
    Py_ssize_t start, end;
    CommandObject *cmd;

    if (!PyArg_ParseTupleAndKeywords(a, kw, "Onn:Command", kwlist, &args, &start, &end))
        return NULL;
    zero = PyLong_FromLong(0);
    if (zero == NULL)
        return NULL;
    first = PyObject_GetItem(args, zero); /* args[0], as the Python class does */
    Py_DECREF(zero);
    if (first == NULL)
        return NULL;
    name = lower_name(first);
    Py_DECREF(first);
    if (name == NULL)
        return NULL;
    cmd = (CommandObject *)type->tp_alloc(type, 0);
    if (cmd == NULL) {
        Py_DECREF(name);
        return NULL;
    }
    cmd->args = Py_NewRef(args);
    cmd->name = name;
    cmd->start = start;
    cmd->end = end;
    return (PyObject *)cmd;
}

static int
command_traverse(PyObject *self, visitproc visit, void *arg)
{
    CommandObject *cmd = (CommandObject *)self;
    Py_VISIT(cmd->args);
    Py_VISIT(cmd->name);
    return 0;
}

static int
command_clear(PyObject *self)
{
    CommandObject *cmd = (CommandObject *)self;
    Py_CLEAR(cmd->args);
    Py_CLEAR(cmd->name);
    return 0;
}

static void
command_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    command_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *
command_repr(PyObject *self)
{
    CommandObject *cmd = (CommandObject *)self;
    if (cmd->args == NULL) {
        PyErr_SetString(PyExc_AttributeError, "args");
        return NULL;
    }
    return PyUnicode_FromFormat("Command(%R)", cmd->args);
}

static PyMemberDef command_members[] = {
    {"args", T_OBJECT_EX, offsetof(CommandObject, args), 0, "the arguments, as bytes"},
    {"name", T_OBJECT_EX, offsetof(CommandObject, name), 0, "args[0].lower()"},
    {"start", T_PYSSIZET, offsetof(CommandObject, start), 0, "offset of the command's bytes"},
    {"end", T_PYSSIZET, offsetof(CommandObject, end), 0, "end offset; -1 for an inline command"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject CommandType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "podkit.redis_ambassador.resp._resp.Command",
    .tp_doc = PyDoc_STR("Command(args, start, end): one complete client command and where its "
                        "bytes sit in the scanned buffer; end is -1 for an inline command."),
    .tp_basicsize = sizeof(CommandObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = command_new,
    .tp_dealloc = command_dealloc,
    .tp_traverse = command_traverse,
    .tp_clear = command_clear,
    .tp_repr = command_repr,
    .tp_members = command_members,
};

/* ---- RequestScanner -------------------------------------------------------------------------- */

typedef struct {
    Py_ssize_t off;
    Py_ssize_t len;
} Span;

typedef struct {
    PyObject_HEAD
    Buffer buf;          /* the incomplete frame, from its first byte */
    long long need;      /* bytes that frame needs before scanning it again can progress; 0: unknown */
    PyObject *error;     /* the ProtocolError that ended the connection, or None */
    long long max_bulk;
    long long max_multibulk;
    long long max_inline;
    long long max_query;
    PyObject *last_raw;  /* args[0] of the last command, shared by the next one that repeats it */
    PyObject *last_name; /* its name */
} RequestScannerObject;

static PyObject *
request_new(PyTypeObject *type, PyObject *Py_UNUSED(a), PyObject *Py_UNUSED(kw))
{
    RequestScannerObject *self;
    if (protocol_error == NULL || scan_inline == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "_resp.setup() was not called: import podkit.redis_ambassador.resp");
        return NULL;
    }
    self = (RequestScannerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->error = Py_NewRef(Py_None);
    self->max_bulk = 512LL * 1024 * 1024;
    self->max_multibulk = 1024 * 1024;
    self->max_inline = 64 * 1024;
    self->max_query = 1024LL * 1024 * 1024;
    return (PyObject *)self;
}

static int
request_init(PyObject *op, PyObject *a, PyObject *kw)
{
    static char *kwlist[] = {"max_bulk", "max_multibulk", "max_inline", "max_query", NULL};
    RequestScannerObject *self = (RequestScannerObject *)op;
    long long max_bulk = 512LL * 1024 * 1024, max_multibulk = 1024 * 1024;
    long long max_inline = 64 * 1024, max_query = 1024LL * 1024 * 1024;

    if (!PyArg_ParseTupleAndKeywords(a, kw, "|$LLLL:RequestScanner", kwlist, &max_bulk,
                                     &max_multibulk, &max_inline, &max_query))
        return -1;
    self->max_bulk = max_bulk;
    self->max_multibulk = max_multibulk;
    self->max_inline = max_inline;
    self->max_query = max_query;
    buffer_set(&self->buf, NULL, 0);
    self->need = 0;
    Py_SETREF(self->error, Py_NewRef(Py_None));
    return 0;
}

static int
request_traverse(PyObject *op, visitproc visit, void *arg)
{
    RequestScannerObject *self = (RequestScannerObject *)op;
    Py_VISIT(self->error);
    Py_VISIT(self->last_raw);
    Py_VISIT(self->last_name);
    return 0;
}

static int
request_clear(PyObject *op)
{
    RequestScannerObject *self = (RequestScannerObject *)op;
    Py_CLEAR(self->error);
    Py_CLEAR(self->last_raw);
    Py_CLEAR(self->last_name);
    return 0;
}

static void
request_dealloc(PyObject *op)
{
    RequestScannerObject *self = (RequestScannerObject *)op;
    PyObject_GC_UnTrack(op);
    request_clear(op);
    buffer_free(&self->buf);
    Py_TYPE(op)->tp_free(op);
}

/* Appends Command(args, start, end) made from the spans of s; 0, or -1 with an exception. */
static int
add_command(RequestScannerObject *self, const char *s, const Span *spans, Py_ssize_t n,
            Py_ssize_t start, Py_ssize_t end, PyObject *commands)
{
    PyObject *args, *raw, *name, *cmd;
    const char *first = s + spans[0].off;
    Py_ssize_t i, flen = spans[0].len;
    int status;

    args = PyList_New(n);
    if (args == NULL)
        return -1;
    raw = self->last_raw;
    if (raw != NULL && PyBytes_GET_SIZE(raw) == flen &&
        memcmp(PyBytes_AS_STRING(raw), first, (size_t)flen) == 0) {
        Py_INCREF(raw);
        name = Py_NewRef(self->last_name);
    }
    else {
        raw = PyBytes_FromStringAndSize(first, flen);
        if (raw == NULL) {
            Py_DECREF(args);
            return -1;
        }
        name = lower_name(raw);
        if (name == NULL) {
            Py_DECREF(raw);
            Py_DECREF(args);
            return -1;
        }
        Py_XSETREF(self->last_raw, Py_NewRef(raw));
        Py_XSETREF(self->last_name, Py_NewRef(name));
    }
    PyList_SET_ITEM(args, 0, raw);
    for (i = 1; i < n; i++) {
        PyObject *item = PyBytes_FromStringAndSize(s + spans[i].off, spans[i].len);
        if (item == NULL) {
            Py_DECREF(args);
            Py_DECREF(name);
            return -1;
        }
        PyList_SET_ITEM(args, i, item);
    }
    cmd = command_make(args, name, start, end);
    if (cmd == NULL)
        return -1;
    status = PyList_Append(commands, cmd);
    Py_DECREF(cmd);
    return status;
}

/* The inline command at *pos, through scanner._scan_inline. Returns 1 (scanned: *pos moved on),
 * 0 (incomplete, or a ProtocolError now in *perr) or -1 (another exception is set). */
static int
inline_command(RequestScannerObject *self, PyObject *src, Py_ssize_t *pos, PyObject *commands,
               PyObject **perr)
{
    PyObject *result, *words, *name, *cmd;
    Py_ssize_t next;

    result = PyObject_CallFunction(scan_inline, "OnL", src, *pos, self->max_inline);
    if (result == NULL) {
        if (!PyErr_ExceptionMatches(protocol_error))
            return -1;
        *perr = take_exception();
        return *perr == NULL ? -1 : 0;
    }
    if (!PyTuple_CheckExact(result) || PyTuple_GET_SIZE(result) != 2 ||
        !PyList_CheckExact(PyTuple_GET_ITEM(result, 1))) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_TypeError, "_scan_inline must return (int, list)");
        return -1;
    }
    next = PyLong_AsSsize_t(PyTuple_GET_ITEM(result, 0));
    if (next == -1 && PyErr_Occurred()) {
        Py_DECREF(result);
        return -1;
    }
    if (next < 0) { /* no end of line yet */
        Py_DECREF(result);
        return 0;
    }
    if (next <= *pos || next > PyBytes_GET_SIZE(src)) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_RuntimeError, "_scan_inline returned a bad position");
        return -1;
    }
    words = PyTuple_GET_ITEM(result, 1);
    if (PyList_GET_SIZE(words) > 0) {
        name = lower_name(PyList_GET_ITEM(words, 0));
        if (name == NULL) {
            Py_DECREF(result);
            return -1;
        }
        cmd = command_make(Py_NewRef(words), name, *pos, -1);
        if (cmd == NULL || PyList_Append(commands, cmd) < 0) {
            Py_XDECREF(cmd);
            Py_DECREF(result);
            return -1;
        }
        Py_DECREF(cmd);
    }
    Py_DECREF(result);
    *pos = next;
    return 1;
}

/* Scans src, appending complete commands. Returns where the unscanned bytes begin, or -1 with an
 * exception set. A protocol error ends the scan with the ProtocolError in *perr; an incomplete
 * bulk payload at the end sets *need (bytes the frame needs, counted from its first byte). */
static Py_ssize_t
scan_requests(RequestScannerObject *self, PyObject *src, PyObject *commands, PyObject **perr,
              long long *need)
{
    const char *s = PyBytes_AS_STRING(src);
    const Py_ssize_t end = PyBytes_GET_SIZE(src);
    Span local[LOCAL_SPANS];
    Span *spans = local;
    Py_ssize_t cap = LOCAL_SPANS, pos = 0, result = -1;

    while (pos < end) {
        const Py_ssize_t start = pos;
        Py_ssize_t nl, n = 0;
        long long count;

        if (s[pos] != '*') { /* an inline command: its line is Python's */
            int status = inline_command(self, src, &pos, commands, perr);
            if (status < 0)
                goto done;
            if (status == 0)
                break;
            continue;
        }
        nl = find_crlf(s, pos + 1, end);
        if (nl < 0) {
            if (end - pos > BIG_HEADER && (*perr = new_error("too big mbulk count string")) == NULL)
                goto done;
            break;
        }
        if (!parse_ll(s + pos + 1, nl - pos - 1, &count) || count > self->max_multibulk) {
            if ((*perr = new_error("invalid multibulk length")) == NULL)
                goto done;
            break;
        }
        pos = nl + 2;
        if (count <= 0)
            continue; /* Redis ignores empty multibulks */
        while (n < count) {
            long long len;
            if (pos >= end)
                break;
            if (s[pos] != '$') {
                PyObject *msg = PyUnicode_FromFormat("expected '$', got '%c'",
                                                     (int)(unsigned char)s[pos]);
                if ((*perr = new_error_obj(msg)) == NULL)
                    goto done;
                break;
            }
            nl = find_crlf(s, pos + 1, end);
            if (nl < 0) {
                if (end - pos > BIG_HEADER &&
                    (*perr = new_error("too big bulk count string")) == NULL)
                    goto done;
                break;
            }
            if (!parse_ll(s + pos + 1, nl - pos - 1, &len) || len < 0 || len > self->max_bulk) {
                if ((*perr = new_error("invalid bulk length")) == NULL)
                    goto done;
                break;
            }
            pos = nl + 2;
            if (len > end - pos - 2) { /* the payload and its CRLF are not all here */
                *need = add_sat((long long)(pos - start) + 2, len);
                break;
            }
            if (n == cap) {
                Span *grown;
                if (cap > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(Span)) {
                    PyErr_NoMemory();
                    goto done;
                }
                grown = PyMem_Malloc((size_t)cap * 2 * sizeof(Span));
                if (grown == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                memcpy(grown, spans, (size_t)n * sizeof(Span));
                if (spans != local)
                    PyMem_Free(spans);
                spans = grown;
                cap *= 2;
            }
            spans[n].off = pos;
            spans[n].len = (Py_ssize_t)len;
            n++;
            pos += (Py_ssize_t)len + 2;
        }
        if (*perr != NULL)
            break;
        if (n < count) { /* incomplete: keep the frame buffered */
            pos = start;
            break;
        }
        if (add_command(self, s, spans, n, start, pos, commands) < 0)
            goto done;
    }
    result = pos;
done:
    if (spans != local)
        PyMem_Free(spans);
    return result;
}

static PyObject *
request_feed(PyObject *op, PyObject *arg)
{
    RequestScannerObject *self = (RequestScannerObject *)op;
    PyObject *data, *src = NULL, *commands = NULL, *perr = NULL, *result = NULL;
    long long need = 0;
    Py_ssize_t pos, rest;

    if (self->error != Py_None)
        return nothing_scanned();
    data = as_bytes(arg);
    if (data == NULL)
        return NULL;
    if (self->buf.len > 0) {
        Py_ssize_t dlen = PyBytes_GET_SIZE(data);
        if (dlen <= PY_SSIZE_T_MAX - self->buf.len && self->buf.len + dlen < self->need &&
            self->buf.len + dlen <= self->max_query) { /* still inside a bulk payload */
            int status = buffer_append(&self->buf, PyBytes_AS_STRING(data), dlen);
            Py_DECREF(data);
            return status < 0 ? NULL : nothing_scanned();
        }
    }
    src = joined(&self->buf, data);
    Py_DECREF(data);
    if (src == NULL)
        return NULL;
    commands = PyList_New(0);
    if (commands == NULL)
        goto done;
    pos = scan_requests(self, src, commands, &perr, &need);
    if (pos < 0)
        goto done;
    rest = PyBytes_GET_SIZE(src) - pos;
    if (perr == NULL && rest > self->max_query &&
        (perr = new_error("query buffer limit exceeded")) == NULL)
        goto done;
    if (perr != NULL) { /* the connection is done; what came before still runs */
        Py_SETREF(self->error, perr);
        perr = NULL;
        buffer_set(&self->buf, NULL, 0);
        self->need = 0;
    }
    else {
        if (buffer_set(&self->buf, PyBytes_AS_STRING(src) + pos, rest) < 0)
            goto done;
        self->need = rest > 0 ? need : 0;
    }
    result = PyTuple_Pack(2, src, commands);
done:
    Py_XDECREF(perr);
    Py_XDECREF(commands);
    Py_DECREF(src);
    return result;
}

static PyObject *
request_get_buffered(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(((RequestScannerObject *)op)->buf.len);
}

static PyMethodDef request_methods[] = {
    {"feed", request_feed, METH_O,
     PyDoc_STR("feed(data) -> (src, commands): scan data after what was buffered; on malformed "
               "input the commands before the bad frame are returned and .error is set.")},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef request_members[] = {
    {"error", T_OBJECT, offsetof(RequestScannerObject, error), 0,
     "the ProtocolError that ended the connection, or None"},
    {"max_bulk", T_LONGLONG, offsetof(RequestScannerObject, max_bulk), 0, NULL},
    {"max_multibulk", T_LONGLONG, offsetof(RequestScannerObject, max_multibulk), 0, NULL},
    {"max_inline", T_LONGLONG, offsetof(RequestScannerObject, max_inline), 0, NULL},
    {"max_query", T_LONGLONG, offsetof(RequestScannerObject, max_query), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef request_getset[] = {
    {"buffered", request_get_buffered, NULL,
     PyDoc_STR("bytes of an incomplete frame waiting for the rest"), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject RequestScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "podkit.redis_ambassador.resp._resp.RequestScanner",
    .tp_doc = PyDoc_STR("RequestScanner(*, max_bulk=, max_multibulk=, max_inline=, max_query=): "
                        "scans client bytes into Command objects, buffering an incomplete frame."),
    .tp_basicsize = sizeof(RequestScannerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = request_new,
    .tp_init = request_init,
    .tp_dealloc = request_dealloc,
    .tp_traverse = request_traverse,
    .tp_clear = request_clear,
    .tp_methods = request_methods,
    .tp_members = request_members,
    .tp_getset = request_getset,
};

/* ---- ReplyScanner ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Buffer buf;                /* the incomplete reply, from its first byte */
    long long need;            /* bytes it needs before a scan can progress; 0: unknown */
    Py_ssize_t pushes;         /* push frames found by the last feed() */
    unsigned long long *stack; /* values still needed at each open aggregate level */
    Py_ssize_t depth_cap;
} ReplyScannerObject;

static PyObject *
reply_new(PyTypeObject *type, PyObject *Py_UNUSED(a), PyObject *Py_UNUSED(kw))
{
    ReplyScannerObject *self;
    if (protocol_error == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "_resp.setup() was not called: import podkit.redis_ambassador.resp");
        return NULL;
    }
    self = (ReplyScannerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->stack = PyMem_Malloc(16 * sizeof(unsigned long long));
    if (self->stack == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->depth_cap = 16;
    return (PyObject *)self;
}

static int
reply_init(PyObject *op, PyObject *a, PyObject *kw)
{
    ReplyScannerObject *self = (ReplyScannerObject *)op;
    if (PyTuple_GET_SIZE(a) > 0 || (kw != NULL && PyDict_GET_SIZE(kw) > 0)) {
        PyErr_SetString(PyExc_TypeError, "ReplyScanner() takes no arguments");
        return -1;
    }
    buffer_set(&self->buf, NULL, 0);
    self->need = 0;
    self->pushes = 0;
    return 0;
}

static void
reply_dealloc(PyObject *op)
{
    ReplyScannerObject *self = (ReplyScannerObject *)op;
    buffer_free(&self->buf);
    PyMem_Free(self->stack);
    Py_TYPE(op)->tp_free(op);
}

static void
bad_length(const char *s, Py_ssize_t start, Py_ssize_t stop)
{
    PyObject *raw = PyBytes_FromStringAndSize(s + start, stop - start), *exc;
    if (raw == NULL)
        return;
    exc = new_error_obj(PyUnicode_FromFormat("invalid length %R from upstream", raw));
    Py_DECREF(raw);
    if (exc != NULL) {
        PyErr_SetObject(protocol_error, exc);
        Py_DECREF(exc);
    }
}

static void
bad_type(char t)
{
    PyObject *ch = PyUnicode_FromOrdinal((int)(unsigned char)t), *exc;
    if (ch == NULL)
        return;
    exc = new_error_obj(PyUnicode_FromFormat("unexpected reply type byte %R from upstream", ch));
    Py_DECREF(ch);
    if (exc != NULL) {
        PyErr_SetObject(protocol_error, exc);
        Py_DECREF(exc);
    }
}

/* End offset of the (possibly nested) value at pos; 0 if incomplete (*need set to the absolute
 * offset the buffer must reach when a blob is cut short); -1 with an exception set. */
static Py_ssize_t
scan_value(ReplyScannerObject *self, const char *s, Py_ssize_t pos, Py_ssize_t end, long long *need)
{
    unsigned long long *stack = self->stack;
    Py_ssize_t depth = 0;

    stack[0] = 1;
    for (;;) {
        Py_ssize_t nl;
        long long n;
        char t;

        if (pos >= end)
            return 0;
        t = s[pos];
        nl = find_crlf(s, pos + 1, end);
        if (nl < 0)
            return 0;
        switch (t) {
        case '+': case '-': case ':': case '_': case '#': case ',': case '(':
            pos = nl + 2;
            break;
        case '$': case '!': case '=':
            if (!parse_ll(s + pos + 1, nl - pos - 1, &n)) {
                bad_length(s, pos + 1, nl);
                return -1;
            }
            if (n < 0)
                pos = nl + 2;
            else if (n > end - nl - 4) {
                *need = add_sat(nl + 4, n);
                return 0;
            }
            else
                pos = nl + 4 + (Py_ssize_t)n;
            break;
        case '*': case '~': case '>': case '%': case '|':
            if (!parse_ll(s + pos + 1, nl - pos - 1, &n)) {
                bad_length(s, pos + 1, nl);
                return -1;
            }
            pos = nl + 2;
            if (t == '|')
                stack[depth] += 1; /* the attribute precedes the value it annotates */
            if (n > 0) {
                if (depth + 1 >= self->depth_cap) {
                    unsigned long long *grown;
                    if (self->depth_cap > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(*grown)) {
                        PyErr_NoMemory();
                        return -1;
                    }
                    grown = PyMem_Realloc(self->stack,
                                          (size_t)self->depth_cap * 2 * sizeof(*grown));
                    if (grown == NULL) {
                        PyErr_NoMemory();
                        return -1;
                    }
                    self->stack = stack = grown;
                    self->depth_cap *= 2;
                }
                /* n <= LLONG_MAX, so 2n fits; a level holds at most 2n + 1 (one attribute) */
                stack[++depth] = (unsigned long long)n * (t == '%' || t == '|' ? 2 : 1);
                continue;
            }
            break;
        default:
            bad_type(t);
            return -1;
        }
        /* one value completed: close every aggregate it completes */
        stack[depth] -= 1;
        while (stack[depth] == 0) {
            if (depth == 0)
                return pos;
            depth--;
            stack[depth] -= 1;
        }
    }
}

static int
append_offset(PyObject *ends, Py_ssize_t offset)
{
    PyObject *item = PyLong_FromSsize_t(offset);
    int status;
    if (item == NULL)
        return -1;
    status = PyList_Append(ends, item);
    Py_DECREF(item);
    return status;
}

static PyObject *
reply_feed(PyObject *op, PyObject *arg)
{
    ReplyScannerObject *self = (ReplyScannerObject *)op;
    PyObject *data, *src, *ends = NULL, *result = NULL;
    const char *s;
    Py_ssize_t pos = 0, end;
    long long need = 0;

    self->pushes = 0;
    data = as_bytes(arg);
    if (data == NULL)
        return NULL;
    if (self->buf.len > 0) {
        Py_ssize_t dlen = PyBytes_GET_SIZE(data);
        if (dlen <= PY_SSIZE_T_MAX - self->buf.len && self->buf.len + dlen < self->need) {
            int status = buffer_append(&self->buf, PyBytes_AS_STRING(data), dlen);
            Py_DECREF(data);
            return status < 0 ? NULL : nothing_scanned();
        }
    }
    src = joined(&self->buf, data);
    Py_DECREF(data);
    if (src == NULL)
        return NULL;
    ends = PyList_New(0);
    if (ends == NULL)
        goto done;
    s = PyBytes_AS_STRING(src);
    end = PyBytes_GET_SIZE(src);
    while (pos < end) {
        const char t = s[pos];
        Py_ssize_t nl, stop;
        long long n;
        switch (t) { /* fast paths for the common top-level scalars */
        case '+': case '-': case ':': case '_': case '#': case ',': case '(':
            nl = find_crlf(s, pos + 1, end);
            if (nl < 0)
                goto scanned;
            stop = nl + 2;
            break;
        case '$':
            nl = find_crlf(s, pos + 1, end);
            if (nl < 0)
                goto scanned;
            if (!parse_ll(s + pos + 1, nl - pos - 1, &n)) {
                bad_length(s, pos + 1, nl);
                goto done;
            }
            if (n < 0)
                stop = nl + 2;
            else if (n > end - nl - 4) {
                need = add_sat(nl + 4 - pos, n);
                goto scanned;
            }
            else
                stop = nl + 4 + (Py_ssize_t)n;
            break;
        default: {
            long long at = 0;
            stop = scan_value(self, s, pos, end, &at);
            if (stop < 0)
                goto done;
            if (stop == 0) {
                need = at > 0 ? at - pos : 0;
                goto scanned;
            }
            if (t == '>') { /* a push frame: out of band, its end negated */
                self->pushes++;
                if (append_offset(ends, -stop) < 0)
                    goto done;
                pos = stop;
                continue;
            }
        }
        }
        if (append_offset(ends, stop) < 0)
            goto done;
        pos = stop;
    }
scanned:
    if (buffer_set(&self->buf, s + pos, end - pos) < 0)
        goto done;
    self->need = pos < end ? need : 0;
    result = PyTuple_Pack(2, src, ends);
done:
    Py_XDECREF(ends);
    Py_DECREF(src);
    return result;
}

static PyObject *
reply_reset(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ReplyScannerObject *self = (ReplyScannerObject *)op;
    buffer_set(&self->buf, NULL, 0);
    self->need = 0;
    Py_RETURN_NONE;
}

static PyObject *
reply_get_buffered(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(((ReplyScannerObject *)op)->buf.len);
}

static PyMethodDef reply_methods[] = {
    {"feed", reply_feed, METH_O,
     PyDoc_STR("feed(data) -> (src, ends): the end offset of each complete top-level reply in "
               "src, push frames negated; the incomplete tail stays buffered.")},
    {"reset", reply_reset, METH_NOARGS, PyDoc_STR("drop what is buffered")},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef reply_members[] = {
    {"pushes", T_PYSSIZET, offsetof(ReplyScannerObject, pushes), 0,
     "push frames found by the last feed()"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef reply_getset[] = {
    {"buffered", reply_get_buffered, NULL, PyDoc_STR("bytes of an incomplete reply"), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ReplyScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "podkit.redis_ambassador.resp._resp.ReplyScanner",
    .tp_doc = PyDoc_STR("ReplyScanner(): finds complete replies in an upstream's stream; an "
                        "incomplete one stays buffered."),
    .tp_basicsize = sizeof(ReplyScannerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = reply_new,
    .tp_init = reply_init,
    .tp_dealloc = reply_dealloc,
    .tp_methods = reply_methods,
    .tp_members = reply_members,
    .tp_getset = reply_getset,
};

/* ---- module ---------------------------------------------------------------------------------- */

static PyObject *
module_setup(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *error_class, *inline_scanner;
    if (!PyArg_ParseTuple(args, "OO:setup", &error_class, &inline_scanner))
        return NULL;
    if (!PyExceptionClass_Check(error_class) || !PyCallable_Check(inline_scanner)) {
        PyErr_SetString(PyExc_TypeError, "setup(exception class, callable)");
        return NULL;
    }
    Py_XSETREF(protocol_error, Py_NewRef(error_class));
    Py_XSETREF(scan_inline, Py_NewRef(inline_scanner));
    Py_RETURN_NONE;
}

static PyObject *
module_header_int(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    long long value;
    int ok;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    ok = parse_ll(view.buf, view.len, &value);
    PyBuffer_Release(&view);
    if (!ok)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(value);
}

static PyMethodDef module_methods[] = {
    {"setup", module_setup, METH_VARARGS,
     PyDoc_STR("setup(ProtocolError, scan_inline): called once by scanner.py at import")},
    {"header_int", module_header_int, METH_O,
     PyDoc_STR("header_int(raw) -> int | None: raw parsed like Redis's string2ll")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef resp_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "podkit.redis_ambassador.resp._resp",
    .m_doc = PyDoc_STR("C scanners for podkit.redis_ambassador.resp (see that module)."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__resp(void)
{
    PyObject *module;
    if (PyType_Ready(&CommandType) < 0 || PyType_Ready(&RequestScannerType) < 0 ||
        PyType_Ready(&ReplyScannerType) < 0)
        return NULL;
    module = PyModule_Create(&resp_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "Command", (PyObject *)&CommandType) < 0 ||
        PyModule_AddObjectRef(module, "RequestScanner", (PyObject *)&RequestScannerType) < 0 ||
        PyModule_AddObjectRef(module, "ReplyScanner", (PyObject *)&ReplyScannerType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
