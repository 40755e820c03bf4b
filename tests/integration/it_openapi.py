"""GET /openapi.json is docs/openapi.json byte for byte; every route the
gateway's code serves is in the document and every documented route is
served (checked two ways: the route table of gateway/gateway.c, which is
the dispatcher and names a defined handler for each row, and probing the
live gateway); every
example in the document, and the contract's example requests (CONTRACT.md
section 3's POST /v1/renders body, section 4's POST /v1/capture body),
validate against their schemas with a small JSON-schema checker; the
top-level webhooks section has an entry for every event type the scheduler
can emit (read from its code), and a real delivery of each, captured by a
webhook receiver, validates against that entry's payload schema and carries
its signature headers."""
import json
import os
import re

from harness import Stack, ShotServer, HookReceiver, check, wait_for, slide

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
with open(os.path.join(ROOT, "docs", "openapi.json"), "rb") as f:
    doc_bytes = f.read()
doc = json.loads(doc_bytes)
check(doc["openapi"].startswith("3.1"), "openapi version %r" % doc["openapi"])


# ---- a JSON-schema checker for the keywords the document uses ---------------

KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "enum", "oneOf",
            "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern",
            "maxProperties", "$ref", "description", "example", "format", "allOf"}


def resolve(ref):
    check(ref.startswith("#/"), "external $ref %r" % ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def type_ok(value, t):
    return {"object": isinstance(value, dict), "array": isinstance(value, list),
            "string": isinstance(value, str), "boolean": isinstance(value, bool),
            "null": value is None,
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool)}[t]


def errors(schema, value, path="$"):
    """The list of violations of value against schema ([] = valid)."""
    unknown = set(schema) - KEYWORDS
    check(not unknown, "schema at %s uses unchecked keywords %r" % (path, unknown))
    if "$ref" in schema:
        return errors(resolve(schema["$ref"]), value, path)
    out = []
    for i, sub in enumerate(schema.get("allOf", [])):
        out += errors(sub, value, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, t) for t in types):
            return ["%s: %r is not %s" % (path, value, "/".join(types))]
    if "enum" in schema and value not in schema["enum"]:
        out.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if "oneOf" in schema:
        matches = sum(1 for s in schema["oneOf"] if not errors(s, value, path))
        if matches != 1:
            out.append("%s: matches %d of oneOf" % (path, matches))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            out.append("%s: length %d out of bounds" % (path, len(value)))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < schema.get("minimum", float("-inf")) or value > schema.get("maximum", float("inf")):
            out.append("%s: %r out of bounds" % (path, value))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1 << 30):
            out.append("%s: %d items out of bounds" % (path, len(value)))
        for i, item in enumerate(value):
            if "items" in schema:
                out += errors(schema["items"], item, "%s[%d]" % (path, i))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append("%s: missing %s" % (path, key))
        if len(value) > schema.get("maxProperties", 1 << 30):
            out.append("%s: too many properties" % path)
        for key, item in value.items():
            if key in props:
                out += errors(props[key], item, "%s.%s" % (path, key))
            elif schema.get("additionalProperties") is False:
                out.append("%s: unknown key %s" % (path, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(schema["additionalProperties"], item, "%s.%s" % (path, key))
    return out


def walk(node, fn, path="$"):
    fn(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, fn, path + "." + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, fn, "%s[%d]" % (path, i))


# every $ref resolves
walk(doc, lambda n, p: isinstance(n, dict) and "$ref" in n and resolve(n["$ref"]))
# every schema example validates against its own schema
schemas = doc["components"]["schemas"]
for name, schema in schemas.items():
    if "example" in schema:
        e = errors(schema, schema["example"], name)
        check(not e, "example of %s does not validate: %r" % (name, e))
# every media-type example validates against its schema
for path, item in doc["paths"].items():
    for method, op in item.items():
        media = []
        if "requestBody" in op:
            media += list(op["requestBody"]["content"].values())
        for resp in op["responses"].values():
            media += list(resp.get("content", {}).values())
        for m in media:
            if "example" in m and m["schema"].get("type") != "string":
                e = errors(m["schema"], m["example"], "%s %s" % (method, path))
                check(not e, "example of %s %s does not validate: %r" % (method.upper(), path, e))
        check(op.get("operationId"), "%s %s has no operationId" % (method, path))
        check("responses" in op and op["responses"], "%s %s has no responses" % (method, path))

# every webhook example validates against its payload schema
for name, item in doc.get("webhooks", {}).items():
    media = item["post"]["requestBody"]["content"]["application/json"]
    if "example" in media:
        e = errors(media["schema"], media["example"], "webhook " + name)
        check(not e, "example of webhook %s does not validate: %r" % (name, e))

# the checker is not vacuous: bad bodies fail
create = schemas["CreateRenderRequest"]
check(errors(create, {"slides": [{}], "colour": "red"}), "an unknown key validated")
check(errors(create, {"slides": []}), "empty slides validated")
check(errors(create, {"slides": [{"headline": {"lines": ["x" * 201]}}]}), "a 201-byte line validated")
check(errors(create, {"slides": [{}], "background": {"color": "red"}}), "a bad colour validated")
check(errors(schemas["CaptureRequest"], {"async": True}), "a capture without url validated")
job_hook = doc["webhooks"]["job.completed"]["post"]["requestBody"]["content"]["application/json"]
no_envelope = {k: v for k, v in job_hook["example"].items() if k not in ("id", "object", "occurred_at")}
check(errors(job_hook["schema"], no_envelope), "a job event without the envelope validated")
check(errors(job_hook["schema"], dict(job_hook["example"], occurred_at="2026-04-27 15:00:04")),
      "an occurred_at without a zone validated")
check(errors(job_hook["schema"], dict(job_hook["example"], type="job.failed")), "a mistyped event validated")

# the contract's example requests validate
contract_path = None
for candidate in (os.path.join(ROOT, "..", "shared", "CONTRACT.md"), "/work/shared/CONTRACT.md"):
    if os.path.exists(candidate):
        contract_path = candidate
        break
check(contract_path, "CONTRACT.md not found beside the repository (shared/)")
contract = open(contract_path, encoding="utf-8").read()


def example_after(marker):
    at = contract.index(marker)
    block = contract[at:].split("```json", 1)[1].split("```", 1)[0]
    return json.loads(block)


render_body = example_after("`POST /v1/renders`")
capture_body = example_after("`POST /v1/capture`")
e = errors(create, render_body)
check(not e, "CONTRACT section 3 body does not validate: %r" % e)
e = errors(schemas["CaptureRequest"], capture_body)
check(not e, "CONTRACT section 4 body does not validate: %r" % e)

# ---- routes: code, route table, document ------------------------------------

documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
table_src = open(os.path.join(ROOT, "gateway", "gateway.c")).read()
rows = re.findall(r'R \("(GET|POST|DELETE)",\s*"([^"]+)",\s*(route_\w+),', table_src)
check(rows, "no routes found in the route table of gateway/gateway.c")
table = {(m, p) for m, p, _ in rows}
check(len(table) == len(rows), "a route is in the table twice")
check(table == documented, "route table and document differ: table only %r, document only %r"
      % (sorted(table - documented), sorted(documented - table)))
# the table is the dispatcher: every handler it names is defined in the gateway
code = "".join(open(os.path.join(ROOT, "gateway", name)).read()
               for name in sorted(os.listdir(os.path.join(ROOT, "gateway"))) if name.endswith(".c"))
defined = set(re.findall(r'^(route_\w+) \(call_t \*c\)\n\{', code, re.M))
missing = {fn for _, _, fn in rows} - defined
check(not missing, "handlers in the route table that no gateway file defines: %r" % sorted(missing))

# ---- webhooks: every event type the scheduler emits is described ---------------

sched = {name: open(os.path.join(top, name)).read()
         for top, _, names in os.walk(os.path.join(ROOT, "scheduler")) for name in names
         if name.endswith(".c")}
complete = "".join(sched.values()).split("\njob_store_render_complete (job_store_t", 1)[1].split("\n}", 1)[0]
render_states = re.findall(r"THEN '(\w+)'", complete) + re.findall(r"ELSE '(\w+)' END", complete)
check(re.search(r'"render\.%\.?[0-9]*s", r\.status', sched["render_event.c"]),
      "render_event.c no longer names render events render.<status>: update this test")
job_types = re.search(r'"job\.%s",\s*strcmp \(r\.status, "succeeded"\) == 0 \? "(\w+)" : "(\w+)"',
                      sched["render_event.c"])
check(job_types, "render_event.c no longer names job events job.<completed|failed>: update this test")
emitted = {"render." + s for s in render_states} | {"job." + s for s in job_types.groups()}
emitted |= set(re.findall(r'job_store_event_add \([^,]+, [^,]+, "([a-z_]+\.[a-z_]+)"',
                          "".join(sched.values())))
# review decisions: render.<decision>, the decisions the scheduler accepts
check(re.search(r'"render\.%\.?[0-9]*s", r\.review_status', sched["render_event.c"]),
      "render_event.c no longer names review events render.<decision>: update this test")
decisions = re.search(r'bool good = strcmp \(req\.status, "(\w+)"\) == 0 \|\| strcmp \(req\.status, "(\w+)"\) == 0',
                      "".join(sched.values()))
check(decisions, "the scheduler no longer lists the review decisions it accepts: update this test")
emitted |= {"render." + d for d in decisions.groups()}
check({"render.succeeded", "render.failed", "render.canceled", "job.completed", "job.failed",
       "webhook.test"} <= emitted, "event types read from the scheduler: %r" % sorted(emitted))
check(set(doc.get("webhooks", {})) == emitted, "webhooks section %r, the scheduler emits %r"
      % (sorted(doc.get("webhooks", {})), sorted(emitted)))
check(set(schemas["EventEnvelope"]["properties"]["type"]["enum"]) == emitted,
      "EventEnvelope.type enum %r" % schemas["EventEnvelope"]["properties"]["type"]["enum"])

# ---- the live gateway ----------------------------------------------------------

stack = Stack(renderers=0, webhooker=False)
status, headers, served = stack.request("GET", "/openapi.json", auth=False)
check(status == 200 and headers.get("Content-Type") == "application/json", "GET /openapi.json: %d" % status)
check(served == doc_bytes, "the served document differs from docs/openapi.json")
status, headers, err = stack.json("POST", "/openapi.json", {})
check(status == 405 and err["error"]["code"] == "method_not_allowed", "POST /openapi.json: %d" % status)

# every documented (method, path) is routed; other methods answer 405 on it
for method, path in sorted(documented):
    concrete = path.replace("{id}", "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H" if "/renders/" in path
                            else "job_01KNS1WNPW9FCHZSK4XNTHMB0H" if "/jobs/" in path
                            else "evt_01KNS1WNPW9FCHZSK4XNTHMB0H" if "/webhooks/" in path
                            else "img_01KNS1WNPW9FCHZSK4XNTHMB0H")
    body = {} if method == "POST" else None
    status, headers, raw = stack.request(method, concrete, body=body)
    check(status not in (0, 405), "%s %s answered %d" % (method, concrete, status))
    check(headers.get("X-Request-Id", "").startswith("req_"), "%s %s without X-Request-Id" % (method, concrete))
    documented_codes = set(doc["paths"][path][method.lower()]["responses"])
    check(str(status) in documented_codes, "%s %s answered %d, not a documented status %r"
          % (method, concrete, status, sorted(documented_codes)))
    if status == 404:
        check(json.loads(raw)["error"]["code"] != "route_not_found", "%s %s is not routed" % (method, concrete))
    other = "PUT"
    status, headers, raw = stack.request(other, concrete)
    check(status == 405, "%s %s answered %d, expected 405" % (other, concrete, status))
    allowed = {m for m, p in documented if p == path}
    check(set(a.strip() for a in headers.get("Allow", "").split(",")) == allowed,
          "Allow %r on %s, documented %r" % (headers.get("Allow"), path, allowed))
status, _, raw = stack.request("GET", "/v1/nothing-here")
check(status == 404 and json.loads(raw)["error"]["code"] == "route_not_found", "unknown path: %d" % status)

# the contract's render example is accepted by the live gateway as documented (202)
status, _, body = stack.json("POST", "/v1/renders", render_body)
check(status == 202 and body["status"] == "processing", "contract body answered %d: %r" % (status, body))
e = errors(doc["paths"]["/v1/renders"]["post"]["responses"]["202"]["content"]["application/json"]["schema"], body)
check(not e, "the live 202 does not match its schema: %r" % e)
status, _, got = stack.json("GET", "/v1/renders/" + body["id"])
e = errors(schemas["Render"], got)
check(status == 200 and not e, "the live render does not match its schema: %r" % e)

# the answers the document once missed: every one is documented now
rid = body["id"]
for method, path, kw, want in [
        ("POST", "/v1/renders/%s/cancel" % rid, {"raw": b"{", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", "/v1/renders/%s/cancel" % rid, {"raw": b"x=1", "headers": {"Content-Type": "text/plain"}}, 415),
        ("POST", "/v1/renders/%s/cancel" % rid, {"body": {"bogus": 1}}, 422),
        ("POST", "/v1/renders/%s/redeliver" % rid, {"body": {}, "headers": {"Idempotency-Key": "k" * 300}}, 400),
        ("POST", "/v1/jobs/job_01KNS1WNPW9FCHZSK4XNTHMB0H/redeliver",
         {"body": {}, "headers": {"Idempotency-Key": "k" * 300}}, 400)]:
    status, _, raw = stack.request(method, path, **kw)
    template = re.sub(r"/(rnd|job)_[0-9A-Z]+", "/{id}", path)
    check(status == want, "%s %s answered %d, expected %d: %r" % (method, path, status, want, raw[:200]))
    check(str(status) in doc["paths"][template][method.lower()]["responses"],
          "%s %s answers %d, which the document does not list" % (method, template, status))
# the statuses an image really goes through, a job's wait, objects generated types can use
check(schemas["Image"]["properties"]["status"]["enum"] == ["queued", "leased", "succeeded", "failed", "canceled"],
      "Image.status enum: %r" % schemas["Image"]["properties"]["status"]["enum"])
check(any(p["name"] == "wait" for p in doc["paths"]["/v1/jobs/{id}"]["get"].get("parameters", [])),
      "GET /v1/jobs/{id} lacks its wait parameter")


def closed_free_form(node, path):
    if node.get("type") == "object" and not ({"properties", "additionalProperties", "$ref", "oneOf"} & set(node)):
        return ["%s: an object with neither properties nor additionalProperties" % path]
    return []


found = []
walk(doc, lambda node, path: found.extend(closed_free_form(node, path)) if isinstance(node, dict) else None)
check(not found, "free-form objects generate Record<string, never>: %r" % found[:5])
stack.close()

# ---- a real delivery of each event validates against its webhooks entry --------

shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=1)
status, _, busy = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide(shots.url("/shot.png"))]})
check(status == 202, "busy render: %d %r" % (status, busy))
objects = {}
for event, path, body in [
        ("render.canceled", "/v1/renders", {"slides": [slide(shots.url("/shot.png"))] * 3}),
        ("render.succeeded", "/v1/renders", {"slides": [slide(shots.url("/shot.png"))]}),
        ("render.failed", "/v1/renders", {"slides": [slide(shots.url("/missing"))]}),
        ("job.completed", "/v1/capture", {"url": shots.url("/shot.png")}),
        ("job.failed", "/v1/capture", {"url": shots.url("/missing")})]:
    body = dict(body, webhook_url=hooks.url("/" + event), **{"async": True})
    if path == "/v1/renders":
        body["canvas"] = {"preset": "appstore.iphone_6_9"}
    status, _, created = stack.json("POST", path, body)
    check(status == 202, "%s: create answered %d %r" % (event, status, created))
    objects[event] = created.get("id") or created.get("job_id")
    if event == "render.canceled":
        status, _, canceled = stack.json("POST", "/v1/renders/%s/cancel" % objects[event])
        check(status == 200 and canceled["status"] == "canceled", "cancel: %d %r" % (status, canceled))
status, _, test = stack.json("POST", "/v1/webhooks/test", {"url": hooks.url("/webhook.test")})
check(status == 202, "test event: %d %r" % (status, test))
objects["webhook.test"] = test["id"]
ids = {event: {oid} for event, oid in objects.items()}
# review decisions: a finished render, decided once each way; its render.succeeded
# goes to the same webhook_url
for decision in ("approved", "changes_requested"):
    status, _, done = stack.json("POST", "/v1/renders", {
        "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide(shots.url("/shot.png"))],
        "webhook_url": hooks.url("/review-" + decision)})
    check(status == 200 and done["status"] == "succeeded", "render to review: %d %r" % (status, done))
    status, _, decided = stack.json("POST", "/v1/renders/%s/review" % done["id"],
                                    {"status": decision, "comment": "seen", "by": "it_openapi"})
    check(status == 200, "review %s: %d %r" % (decision, status, decided))
    ids.setdefault("render." + decision, set()).add(done["id"])
    ids["render.succeeded"].add(done["id"])
wait_for(lambda: {json.loads(c["body"]).get("type") for c in hooks.snapshot()} >= set(emitted), 60,
         "a delivery of every event type")
params = {}
for ref in doc["webhooks"]["render.succeeded"]["post"]["parameters"]:
    p = resolve(ref["$ref"])
    params[p["name"].lower()] = p
check({"webhook-id", "webhook-timestamp", "webhook-signature", "x-asa-signature"} <= set(params),
      "signature headers documented: %r" % sorted(params))
for call in hooks.snapshot():
    payload = json.loads(call["body"])
    event = payload.get("type")
    check(event in doc["webhooks"], "a delivery of an undocumented event: %r" % payload)
    hook = doc["webhooks"][event]["post"]
    e = errors(hook["requestBody"]["content"]["application/json"]["schema"], payload, event)
    check(not e, "the delivered %s payload does not match its webhooks schema: %r\n%r" % (event, e, payload))
    check(payload["id"] in ids[event], "delivered %s for %r: %r" % (event, ids[event], payload))
    headers = {k.lower(): v for k, v in call["headers"].items()}
    for ref in hook["parameters"]:
        p = resolve(ref["$ref"])
        value = headers.get(p["name"].lower())
        check(value is not None or not p.get("required"), "%s delivery lacks %s" % (event, p["name"]))
        e = errors(p["schema"], value, "%s header %s" % (event, p["name"])) if value is not None else []
        check(not e, "%s header: %r" % (event, e))
stack.close()
print("it_openapi: 1 passed, 0 failed")
