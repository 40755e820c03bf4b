/*  json_depth.c: the nesting depth of a JSON text by one scan (json_depth.h). */
#include "json_depth.h"

/* One pass: the deepest nesting (stopping past stop_depth) and the values
   counted (stopping past stop_values). */
static void
s_scan (const char *text, size_t len, size_t stop_depth, size_t stop_values,
        size_t *deepest_out, size_t *values_out)
{
    size_t depth = 0, deepest = 0, values = 1;
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
            if (++values > stop_values)
                break;
            if (++depth > deepest)
                deepest = depth;
            if (deepest > stop_depth)
                break;
        }
        else
        if (ch == ',') {
            if (++values > stop_values)
                break;
        }
        else
        if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
    }
    *deepest_out = deepest;
    *values_out = values;
}

size_t
json_depth (const char *text, size_t len, size_t stop)
{
    size_t deepest, values;
    s_scan (text, len, stop, (size_t) -1, &deepest, &values);
    return deepest > stop ? stop + 1 : deepest;
}

json_shape_t
json_shape_check (const char *text, size_t len, size_t max_depth, size_t max_values)
{
    if (!text)
        return JSON_SHAPE_OK;
    size_t deepest, values;
    s_scan (text, len, max_depth, max_values, &deepest, &values);
    return deepest > max_depth ? JSON_SHAPE_TOO_DEEP
         : values > max_values ? JSON_SHAPE_TOO_MANY : JSON_SHAPE_OK;
}

bool
json_depth_ok (const char *text, size_t len, size_t max_depth)
{
    return !text || json_depth (text, len, max_depth) <= max_depth;
}
