/*  json_depth.c: the nesting depth of a JSON text by one scan (json_depth.h). */
#include "json_depth.h"

size_t
json_depth (const char *text, size_t len, size_t stop)
{
    size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text [i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else
            if (ch == '\\')
                escaped = true;
            else
            if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"')
            in_string = true;
        else
        if (ch == '[' || ch == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > stop)
                    return stop + 1;
            }
        }
        else
        if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
    }
    return deepest;
}

bool
json_depth_ok (const char *text, size_t len, size_t max_depth)
{
    return !text || json_depth (text, len, max_depth) <= max_depth;
}
