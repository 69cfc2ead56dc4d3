/*
 * idna: the checks an internationalised host name label needs (RFC 5890,
 * 5891, 5892, 3492), for format "hostname" (A-labels, xn--…) and
 * "idn-hostname" (U-labels).
 *
 * A-labels are decoded with Punycode (RFC 3492); a label that does not
 * decode, or decodes to nothing but ASCII, is invalid.  U-labels are
 * checked against the IDNA2008 rules that matter in practice, with PCRE2's
 * Unicode properties standing in for the derived property tables: code
 * points must be lower-case or caseless letters, marks, decimal digits or
 * '-' (RFC 5892's exceptions applied), the label must not start with a
 * combining mark, nor have "--" in its 3rd and 4th places or '-' at
 * either end, and the CONTEXTJ/CONTEXTO rules of RFC 5892 appendix A hold
 * (ZERO WIDTH (NON-)JOINER, MIDDLE DOT, Greek KERAIA, Hebrew GERESH and
 * GERSHAYIM, KATAKANA MIDDLE DOT, Arabic-Indic digits).  Not checked: the
 * Bidi rule (RFC 5893) and NFC normalisation.
 */
#ifndef APIPE_IDNA_H
#define APIPE_IDNA_H

#include <stddef.h>

/*
 * Decode the Punycode s[0..n) (without "xn--") into UTF-8 in out (room
 * for outsz bytes, NUL-terminated).  The UTF-8 length, or -1 when s is
 * not valid Punycode or does not fit.
 */
long idna_punycode_decode(const char *s, size_t n, char *out, size_t outsz);
/* 1 when the UTF-8 label s[0..n) is a valid U-label, else 0. */
int idna_ulabel_ok(const char *s, size_t n);
/* 1 when s[0..n), which starts "xn--" in any case, is a valid A-label. */
int idna_alabel_ok(const char *s, size_t n);

#endif
