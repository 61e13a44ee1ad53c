/*
 * macro_host.h: the macro ABI, version 1, for macro libraries loaded by macro-host.
 *
 * A macro library is a shared object that exports five C symbols:
 *
 *   uint32_t   mh_abi_version(void);                 returns MH_ABI_VERSION (1)
 *   mh_str     mh_manifest(void);                    library-owned UTF-8 JSON list of macros
 *   mh_result *mh_expand(const mh_request *req);     expands one macro call
 *   void       mh_free_result(mh_result *res);       releases what mh_expand returned
 *   mh_result *mh_post_process(mh_str aux_json);     optional: sees all aux data of a run
 *   uint64_t   mh_fingerprint(void);                 optional: a hash of the outside inputs the
 *                                                    output depends on (environment, files)
 *
 * mh_manifest returns `[{"name":"add","kind":"inline","doc":"..."}, ...]` with kind one of
 * "inline", "attribute", "derive". Its memory stays valid as long as the library is loaded.
 *
 * Token streams are flat. A stream is one array of fixed-size records plus one UTF-8 text
 * buffer; a record points into the text by byte offset and length. There is never one
 * allocation per token, so a stream of 200,000 tokens crosses the boundary as two pointers.
 *
 *   source:  add!(a, 1)          args stream of the call: `a , 1`
 *
 *   text:    "a,1"               (the text of each token, back to back; no separators needed)
 *   records: kind     flags  text_off text_len span_start span_end
 *            IDENT    1      0        1        5          6         a   (joint: ',' follows at once)
 *            PUNCT    0      1        1        6          7         ,
 *            LITERAL  0      2        1        8          9         1
 *
 * Spans are UTF-8 byte offsets into the original source file, end exclusive. A token that
 * a macro generates carries MH_SPAN_CALL_SITE in both span fields: it maps to the call site.
 *
 * Ownership: inputs (the request and everything it points to) belong to the host and are
 * valid only during the call. A result and everything it points to belong to the library
 * until mh_free_result; the host copies what it needs before freeing it.
 *
 * All integers are native-endian. Every struct below is laid out with the platform's C
 * rules; on 64-bit targets pointers and size_t are 8 bytes (docs/abi.md gives the offsets).
 */
#ifndef MACRO_HOST_H
#define MACRO_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes; mh_abi_version() must return it exactly. */
#define MH_ABI_VERSION 1u

/** The span value of a token the macro generated: it maps to the macro's call site. */
#define MH_SPAN_CALL_SITE 0xFFFFFFFFu

/** Token kinds (mh_token.kind). */
#define MH_TOKEN_IDENT 0u   /* identifier or keyword: foo, fn, let */
#define MH_TOKEN_PUNCT 1u   /* punctuation or operator: ( ) , ; -> :: += */
#define MH_TOKEN_LITERAL 2u /* number, string "..." or short string '...' */

/** Token flags (mh_token.flags), a bit set. */
#define MH_TOKEN_FLAG_JOINT 1u /* no whitespace between this token and the next one */

/** Macro kinds (mh_request.kind, and "kind" in the manifest). */
#define MH_KIND_INLINE 0u    /* name!(args) */
#define MH_KIND_ATTRIBUTE 1u /* #[name(args)] item */
#define MH_KIND_DERIVE 2u    /* #[derive(Name)] item */

/** Outcomes (mh_result.outcome). */
#define MH_OUTCOME_LEAVE 0u   /* keep the original code; output tokens are ignored */
#define MH_OUTCOME_REPLACE 1u /* replace the call (or item) by the output tokens */
#define MH_OUTCOME_REMOVE 2u  /* delete the call (or item) */
#define MH_OUTCOME_BAIL 3u    /* the macro gave up: keep the original code, report diagnostics */

/** Diagnostic severities (mh_diagnostic.severity). */
#define MH_SEVERITY_ERROR 0u
#define MH_SEVERITY_WARNING 1u
#define MH_SEVERITY_NOTE 2u

/** A UTF-8 string with an explicit length; not NUL-terminated. ptr may be NULL when len is 0. */
typedef struct mh_str {
    const char *ptr; /* first byte */
    size_t len;      /* length in bytes */
} mh_str;

/** A byte range of the original source, end exclusive; both MH_SPAN_CALL_SITE for generated code. */
typedef struct mh_span {
    uint32_t start; /* first byte */
    uint32_t end;   /* one past the last byte */
} mh_span;

/** One token: six u32 fields, 24 bytes, no padding. The wire form uses the same six numbers. */
typedef struct mh_token {
    uint32_t kind;       /* MH_TOKEN_* */
    uint32_t flags;      /* MH_TOKEN_FLAG_* bits */
    uint32_t text_off;   /* byte offset of the token's text in the stream's text buffer */
    uint32_t text_len;   /* byte length of the token's text */
    uint32_t span_start; /* source span, or MH_SPAN_CALL_SITE */
    uint32_t span_end;   /* source span end, or MH_SPAN_CALL_SITE */
} mh_token;

/** A flat token stream: len records plus the text they point into. */
typedef struct mh_token_stream {
    const mh_token *tokens; /* len records; may be NULL when len is 0 */
    size_t len;             /* number of tokens */
    const char *text;       /* UTF-8 text buffer; may be NULL when text_len is 0 */
    size_t text_len;        /* length of text in bytes */
} mh_token_stream;

/** One macro call, as the host passes it to mh_expand. */
typedef struct mh_request {
    uint32_t kind;          /* MH_KIND_*: which kind of macro is called */
    mh_str name;            /* the macro's name, as in the manifest */
    mh_token_stream args;   /* inline arguments, or the attribute's arguments; empty for derives */
    mh_token_stream item;   /* the item an attribute or derive is applied to; empty for inline */
    mh_span call_site;      /* span of the whole call in the source */
} mh_request;

/** One diagnostic reported by a macro. */
typedef struct mh_diagnostic {
    uint32_t severity; /* MH_SEVERITY_* */
    mh_span span;      /* where it points; MH_SPAN_CALL_SITE for the call site */
    mh_str message;    /* UTF-8 message */
} mh_diagnostic;

/** What mh_expand (and mh_post_process) return. Owned by the library until mh_free_result. */
typedef struct mh_result {
    uint32_t outcome;                   /* MH_OUTCOME_* */
    mh_token_stream tokens;             /* output, meaningful for MH_OUTCOME_REPLACE */
    mh_str aux_data;                    /* optional UTF-8 JSON value; ptr NULL means none */
    const mh_diagnostic *diagnostics;   /* diagnostics_len entries; may be NULL when 0 */
    size_t diagnostics_len;             /* number of diagnostics */
} mh_result;

/* ---- Small inline helpers for C macro authors: one heap block per result. ---- */

/** A zeroed result with the given outcome, or NULL when out of memory. */
static inline mh_result *mh_result_new(uint32_t outcome) {
    mh_result *res = (mh_result *)calloc(1, sizeof(mh_result));
    if (res) res->outcome = outcome;
    return res;
}

/**
 * Copies tokens and text into the result as its output stream. Returns 0 on success.
 * The result takes its own copies, so the caller's buffers may live on the stack.
 */
static inline int mh_result_set_tokens(mh_result *res, const mh_token *tokens, size_t len,
                                       const char *text, size_t text_len) {
    mh_token *t = len ? (mh_token *)malloc(len * sizeof(mh_token)) : NULL;
    char *s = text_len ? (char *)malloc(text_len) : NULL;
    if ((len && !t) || (text_len && !s)) { free(t); free(s); return -1; }
    if (len) memcpy(t, tokens, len * sizeof(mh_token));
    if (text_len) memcpy(s, text, text_len);
    res->tokens.tokens = t; res->tokens.len = len;
    res->tokens.text = s; res->tokens.text_len = text_len;
    return 0;
}

/** Copies a NUL-terminated JSON text into the result's aux data. Returns 0 on success. */
static inline int mh_result_set_aux_data(mh_result *res, const char *json) {
    size_t n = strlen(json);
    char *s = (char *)malloc(n ? n : 1);
    if (!s) return -1;
    memcpy(s, json, n);
    res->aux_data.ptr = s; res->aux_data.len = n;
    return 0;
}

/** Appends a diagnostic with a copy of the NUL-terminated message. Returns 0 on success. */
static inline int mh_result_add_diagnostic(mh_result *res, uint32_t severity, mh_span span,
                                           const char *message) {
    size_t n = res->diagnostics_len;
    size_t mlen = strlen(message);
    mh_diagnostic *d = (mh_diagnostic *)realloc((void *)res->diagnostics, (n + 1) * sizeof(mh_diagnostic));
    char *m = (char *)malloc(mlen ? mlen : 1);
    if (!d || !m) { free(m); if (d) res->diagnostics = d; return -1; }
    memcpy(m, message, mlen);
    d[n].severity = severity; d[n].span = span;
    d[n].message.ptr = m; d[n].message.len = mlen;
    res->diagnostics = d; res->diagnostics_len = n + 1;
    return 0;
}

/** Frees a result built with the helpers above; a library built on them can export this as mh_free_result. */
static inline void mh_result_free(mh_result *res) {
    size_t i;
    if (!res) return;
    free((void *)res->tokens.tokens);
    free((void *)res->tokens.text);
    free((void *)res->aux_data.ptr);
    for (i = 0; i < res->diagnostics_len; i++) free((void *)res->diagnostics[i].message.ptr);
    free((void *)res->diagnostics);
    free(res);
}

/* ---- The exported entry points a library defines. ---- */

uint32_t mh_abi_version(void);
mh_str mh_manifest(void);
mh_result *mh_expand(const mh_request *req);
void mh_free_result(mh_result *res);
/** Optional. aux_json is a JSON array of every aux data value produced during the run. */
mh_result *mh_post_process(mh_str aux_json);
/**
 * Optional. A hash of every input outside the macro call that the library's output depends on (an
 * environment variable, a file it reads). The host calls it once per load; the expansion cache puts
 * it in every key, so a changed fingerprint misses. A library without it is taken to be pure in its input.
 */
uint64_t mh_fingerprint(void);

#ifdef __cplusplus
}
#endif

#endif /* MACRO_HOST_H */
