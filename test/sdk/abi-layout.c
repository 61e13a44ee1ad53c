/* Prints the size, alignment and field offsets of every struct in macro_host.h as JSON, so the
 * test can compare the C compiler's layout with koffi's and with docs/abi.md. */
#include <stdio.h>
#include <stdalign.h>
#include "macro_host.h"

#define STRUCT(T) printf("%s\"%s\":{\"size\":%zu,\"align\":%zu,\"fields\":{", first ? "" : ",", #T, sizeof(T), alignof(T)); first = 0; f = 1
#define FIELD(T, m) printf("%s\"%s\":%zu", f ? "" : ",", #m, offsetof(T, m)); f = 0
#define END() printf("}}")

int main(void) {
    int first = 1, f = 1;
    printf("{");
    STRUCT(mh_str); FIELD(mh_str, ptr); FIELD(mh_str, len); END();
    STRUCT(mh_span); FIELD(mh_span, start); FIELD(mh_span, end); END();
    STRUCT(mh_token); FIELD(mh_token, kind); FIELD(mh_token, flags); FIELD(mh_token, text_off);
    FIELD(mh_token, text_len); FIELD(mh_token, span_start); FIELD(mh_token, span_end); END();
    STRUCT(mh_token_stream); FIELD(mh_token_stream, tokens); FIELD(mh_token_stream, len);
    FIELD(mh_token_stream, text); FIELD(mh_token_stream, text_len); END();
    STRUCT(mh_request); FIELD(mh_request, kind); FIELD(mh_request, name); FIELD(mh_request, args);
    FIELD(mh_request, item); FIELD(mh_request, call_site); END();
    STRUCT(mh_diagnostic); FIELD(mh_diagnostic, severity); FIELD(mh_diagnostic, span);
    FIELD(mh_diagnostic, message); END();
    STRUCT(mh_result); FIELD(mh_result, outcome); FIELD(mh_result, tokens); FIELD(mh_result, aux_data);
    FIELD(mh_result, diagnostics); FIELD(mh_result, diagnostics_len); END();
    printf("}\n");
    return 0;
}
