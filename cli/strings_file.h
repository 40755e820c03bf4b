/*  strings_file.h: Apple .strings files ("key" = "value"; with comments and
    escapes), as fastlane frameit reads title.strings and keyword.strings.
    The bytes may be UTF-8 (with or without a BOM) or UTF-16 LE/BE (with a
    BOM, or recognised from a zero byte in the first code unit); the values
    come out as UTF-8 with escapes resolved (\n is a line break).
    No state besides the parsed table; not thread shared. The caller owns a
    strings_file_t and frees it with strings_file_destroy.  */
#ifndef EASEL_STRINGS_FILE_H
#define EASEL_STRINGS_FILE_H

#include <stddef.h>
#include <stdint.h>

#define STRINGS_FILE_MAX_BYTES   (1024 * 1024)   /* a whole file */
#define STRINGS_FILE_MAX_ENTRIES 1000
#define STRINGS_FILE_MAX_STRING  4096            /* bytes of one key or value, as UTF-8 */
#define STRINGS_FILE_ERR_MAX     256

typedef struct strings_file_t strings_file_t;

/* Parses len bytes. Returns the table (entries in file order; a repeated
   key keeps its last value, as Apple's parser does), or NULL with a
   sentence naming the line in err: bad encoding, an unterminated string or
   comment, a missing '=' or ';', a bad escape, a cap passed. */
strings_file_t *strings_file_parse (const uint8_t *data, size_t len, char *err, size_t err_size);

/* Number of entries; key and value of entry i (borrowed, UTF-8). */
size_t      strings_file_count (const strings_file_t *self);
const char *strings_file_key (const strings_file_t *self, size_t i);
const char *strings_file_value (const strings_file_t *self, size_t i);

/* The value of key (exact match), or NULL. */
const char *strings_file_get (const strings_file_t *self, const char *key);

/* frameit's lookup: the value of the first entry (file order) whose key is
   contained in path, compared without case; NULL when none matches or the
   value it gives is empty (the Framefile's text is used then). */
const char *strings_file_match (const strings_file_t *self, const char *path);

void strings_file_destroy (strings_file_t **self_p);

#endif
