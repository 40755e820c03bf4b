/*  test_cli_keys.c: runs the built `easel keys create/list/revoke` against a
    temporary data dir and checks what it prints and how it exits.
        test_cli_keys PATH/TO/easel  */
#include "../unit/check.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *easel;
static char data[64];

/* Runs `easel ARGS` (stderr folded into the output) and returns its exit status;
   the output goes to out (size bytes, NUL-terminated). */
static int
s_run (char *out, size_t size, const char *args)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "EASEL_DATA= '%s' %s 2>&1", easel, args);
    FILE *p = popen (cmd, "r");
    if (!p)
        return -1;
    size_t n = fread (out, 1, size - 1, p);
    out[n] = 0;
    int status = pclose (p);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static bool
s_key_valid (const char *s, const char *prefix, size_t min_len)
{
    return s && strncmp (s, prefix, strlen (prefix)) == 0 && strlen (s) >= min_len
        && strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+/=-") == strlen (s);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: test_cli_keys PATH/TO/easel\n");
        return 2;
    }
    easel = argv[1];
    snprintf (data, sizeof data, "/tmp/easel-cli-keys-XXXXXX");
    if (!mkdtemp (data)) {
        perror ("mkdtemp");
        return 1;
    }
    char out[16384], args[512];

    /* create, plain text */
    snprintf (args, sizeof args, "keys create --name ci-bot --credits 50 --data %s", data);
    int rc = s_run (out, sizeof out, args);
    CHECK (rc == 0, "expected keys create to exit 0, got %d: %s", rc, out);
    char *sk = strstr (out, "sk_"), *wh = strstr (out, "whsec_");
    CHECK (sk && wh, "expected an sk_ key and a whsec_ secret in: %s", out);
    char key[128] = "";
    if (sk)
        sscanf (sk, "%127s", key);
    CHECK (s_key_valid (key, "sk_", 20), "expected an API key like sk_<random>, got \"%s\"", key);

    /* create, JSON */
    snprintf (args, sizeof args, "keys create --name second --data %s --json", data);
    rc = s_run (out, sizeof out, args);
    CHECK (rc == 0, "expected keys create --json to exit 0, got %d: %s", rc, out);
    json_t *created = json_loads (out, 0, NULL);
    CHECK (created, "expected JSON from keys create --json, got: %s", out);
    const char *key2 = json_string_value (json_object_get (created, "api_key"));
    CHECK (s_key_valid (key2, "sk_", 20), "expected api_key sk_..., got %s", key2 ? key2 : "(none)");
    CHECK (s_key_valid (json_string_value (json_object_get (created, "webhook_secret")), "whsec_", 40),
           "expected webhook_secret whsec_<base64>, got: %s", out);
    CHECK (strncmp (json_string_value (json_object_get (created, "account_id")) ?: "", "acct_", 5) == 0,
           "expected account_id acct_..., got: %s", out);

    /* list shows both, neither revoked; key 1 has 50 credits */
    snprintf (args, sizeof args, "keys list --data %s --json", data);
    rc = s_run (out, sizeof out, args);
    json_t *list = json_loads (out, 0, NULL);
    CHECK (rc == 0 && json_array_size (list) == 2, "expected keys list --json to show 2 keys, got: %s", out);
    json_t *first = json_array_get (list, 0);
    const char *prefix = json_string_value (json_object_get (first, "key_prefix"));
    CHECK (prefix && strncmp (key, prefix, strlen (prefix)) == 0,
           "expected the first listed prefix %s to start the key %s", prefix ? prefix : "(none)", key);
    CHECK (json_is_false (json_object_get (first, "revoked")), "expected a new key not revoked: %s", out);
    CHECK (json_integer_value (json_object_get (first, "credits")) == 50, "expected 50 credits: %s", out);
    CHECK (strcmp (json_string_value (json_object_get (first, "name")) ?: "", "ci-bot") == 0,
           "expected the name ci-bot: %s", out);

    snprintf (args, sizeof args, "keys list --data %s", data);
    rc = s_run (out, sizeof out, args);
    CHECK (rc == 0 && strstr (out, "ci-bot") && strstr (out, "second") && prefix && strstr (out, prefix),
           "expected the plain list to name both keys and the prefix, got: %s", out);

    /* revoke by prefix, then the list says so */
    snprintf (args, sizeof args, "keys revoke %s --data %s", prefix ? prefix : "sk_x", data);
    rc = s_run (out, sizeof out, args);
    CHECK (rc == 0, "expected keys revoke PREFIX to exit 0, got %d: %s", rc, out);
    snprintf (args, sizeof args, "keys list --data %s --json", data);
    s_run (out, sizeof out, args);
    json_t *after = json_loads (out, 0, NULL);
    CHECK (json_is_true (json_object_get (json_array_get (after, 0), "revoked")),
           "expected the first key revoked after keys revoke: %s", out);
    CHECK (json_is_false (json_object_get (json_array_get (after, 1), "revoked")),
           "expected the second key still active: %s", out);

    /* revoke by full key works too */
    snprintf (args, sizeof args, "keys revoke %s --data %s", key2 ? key2 : "sk_x", data);
    rc = s_run (out, sizeof out, args);
    CHECK (rc == 0, "expected keys revoke FULL_KEY to exit 0, got %d: %s", rc, out);

    /* unknown key */
    snprintf (args, sizeof args, "keys revoke sk_doesnotexist0000 --data %s", data);
    rc = s_run (out, sizeof out, args);
    CHECK (rc != 0 && strstr (out, "no such key"),
           "expected revoking an unknown key to fail with \"no such key\", got %d: %s", rc, out);

    /* bad usage: exit 2 with the usage text */
    const char *bad[] = { "keys", "keys create", "keys frobnicate", "keys create --name x --credits lots",
                          "keys revoke", "keys list --bogus", NULL };
    for (int i = 0; bad[i]; i++) {
        snprintf (args, sizeof args, "%s --data %s", bad[i], data);
        rc = s_run (out, sizeof out, args);
        CHECK (rc == 2 && strstr (out, "usage:"), "expected `easel %s` to exit 2 with usage, got %d: %s",
               bad[i], rc, out);
    }

    json_decref (created);
    json_decref (list);
    json_decref (after);
    snprintf (args, sizeof args, "rm -rf '%s'", data);
    if (system (args) != 0)
        fprintf (stderr, "warning: could not remove %s\n", data);
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("cli_keys: all checks passed\n");
    return check_failures ? 1 : 0;
}
