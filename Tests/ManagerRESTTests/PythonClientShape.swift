// Longhorn's Python client, as its generic gdapi client behaves: discovery from /v1/schemas, every
// URL taken from the server, bodies without Content-Type. Needs python3 with `requests` (and, for
// the stream check, `websocket-client`), which scripts/test.sh installs.

/// Checks the API at the base URL given as its argument; prints its counts as JSON, or exits 1
/// with the first mismatch on standard error.
let pythonClientShapeScript = #"""
    import http, json, sys
    import requests

    BASE = sys.argv[1].rstrip("/")
    HEADERS = {"Authorization": "Basic Og==", "Accept": "application/json"}
    counts = {"schemas": 0, "collections": 0, "resources": 0}


    def fail(message):
        print("client-shape mismatch: " + message, file=sys.stderr)
        sys.exit(1)


    def get(url, expect=200):
        response = requests.get(url, headers=HEADERS, timeout=20)
        if response.status_code != expect:
            fail("GET %s: status %d, expected %d: %s" % (url, response.status_code, expect, response.text[:300]))
        try:
            return response, response.json()
        except ValueError:
            fail("GET %s: the body is not JSON: %r" % (url, response.text[:300]))


    def require(condition, message):
        if not condition:
            fail(message)


    def check_resource(obj, where):
        require(isinstance(obj, dict), "%s: not an object" % where)
        for key in ("id", "type"):
            require(isinstance(obj.get(key), str) and obj[key], "%s: no %s" % (where, key))
        links = obj.get("links")
        require(isinstance(links, dict) and isinstance(links.get("self"), str), "%s: no links.self" % where)
        require(isinstance(obj.get("actions"), dict), "%s: actions is not a map" % where)
        for name, url in obj["actions"].items():
            require(url == links["self"] + "?action=" + name, "%s: action %s has URL %s" % (where, name, url))


    def check_collection(body, where):
        require(body.get("type") == "collection", "%s: type is %r, not collection" % (where, body.get("type")))
        require(isinstance(body.get("resourceType"), str), "%s: no resourceType" % where)
        require(isinstance(body.get("links"), dict) and isinstance(body["links"].get("self"), str), "%s: no links.self" % where)
        require(body.get("actions") == {}, "%s: actions is %r, not {}" % (where, body.get("actions")))
        require(isinstance(body.get("data"), list), "%s: data is not a list" % where)


    def check_error(response, status, where, message_part=None):
        require(response.status_code == status, "%s: status %d, expected %d" % (where, response.status_code, status))
        body = response.json()
        require(body.get("type") == "error", "%s: type is %r, not error" % (where, body.get("type")))
        require(body.get("status") == status, "%s: status field is %r" % (where, body.get("status")))
        phrase = http.HTTPStatus(status).phrase
        require(body.get("code") == phrase, "%s: code is %r, not %r" % (where, body.get("code"), phrase))
        require(isinstance(body.get("message"), str) and body["message"], "%s: no message" % where)
        require("detail" in body, "%s: no detail" % where)
        if message_part is not None:
            require(message_part in body["message"], "%s: message %r lacks %r" % (where, body["message"], message_part))
        return body


    # Discovery, as the client does it: the schemas, then X-API-Schemas if it names another URL.
    url = BASE + "/v1/schemas"
    response, schemas = get(url)
    announced = response.headers.get("X-API-Schemas")
    require(announced, "GET /v1/schemas: no X-API-Schemas header")
    if announced != url:
        response, schemas = get(announced)
    check_collection(schemas, "schemas")
    require(schemas["resourceType"] == "schema", "schemas: resourceType %r" % schemas["resourceType"])

    for schema in schemas["data"]:
        where = "schema %s" % schema.get("id")
        check_resource(schema, where)
        require(schema["type"] == "schema", "%s: type %r" % (where, schema["type"]))
        require(isinstance(schema.get("pluralName"), str) and schema["pluralName"], "%s: no pluralName" % where)
        for key in ("collectionMethods", "resourceMethods"):
            require(isinstance(schema.get(key), list), "%s: %s is not a list" % (where, key))
        for key in ("resourceFields", "resourceActions"):
            require(isinstance(schema.get(key), dict), "%s: %s is not a map" % (where, key))
        counts["schemas"] += 1
        if "GET" not in schema["collectionMethods"]:
            continue
        collection_url = schema["links"].get("collection")
        require(isinstance(collection_url, str), "%s: GET is a collection method but there is no links.collection" % where)
        _, collection = get(collection_url)
        check_collection(collection, "collection " + collection_url)
        counts["collections"] += 1
        for item in collection["data"]:
            item_where = "%s item %s" % (collection_url, item.get("id"))
            check_resource(item, item_where)
            require(item["type"] == schema["id"], "%s: type %r, not %r" % (item_where, item["type"], schema["id"]))
            _, again = get(item["links"]["self"])
            check_resource(again, "GET " + item["links"]["self"])
            require((again["id"], again["type"]) == (item["id"], item["type"]), "%s: by self link it is %s/%s" % (item_where, again["id"], again["type"]))
            counts["resources"] += 1
        # By id, the way the client builds it: collection + "/" + id; a missing one is a 404.
        missing = requests.get(collection_url + "/no-such-" + schema["id"].lower(), headers=HEADERS, timeout=20)
        check_error(missing, 404, "GET a missing %s" % schema["id"])

    # An update through the self link, the body sent as the client sends it: JSON without Content-Type.
    _, settings = get(BASE + "/v1/settings")
    setting = next((s for s in settings["data"] if s["definition"]["type"] == "bool" and not s["definition"]["readOnly"]), None)
    require(setting is not None, "no writable bool setting to update")
    new_value = "false" if setting["value"] == "true" else "true"
    request = requests.Request("PUT", setting["links"]["self"], headers=HEADERS, data=json.dumps({"value": new_value})).prepare()
    require("Content-Type" not in request.headers, "the update would carry a Content-Type")
    response = requests.Session().send(request, timeout=20)
    require(response.status_code == 200, "PUT %s: status %d: %s" % (setting["id"], response.status_code, response.text[:300]))
    updated = response.json()
    check_resource(updated, "PUT " + setting["id"])
    require(updated["value"] == new_value, "PUT %s: value %r, not %r" % (setting["id"], updated["value"], new_value))
    _, reread = get(setting["links"]["self"])
    require(reread["value"] == new_value, "GET %s after PUT: value %r" % (setting["id"], reread["value"]))

    invalid = requests.put(setting["links"]["self"], headers=HEADERS, data=json.dumps({"value": "not-a-bool"}), timeout=20)
    check_error(invalid, 400, "PUT an invalid value", setting["id"] + " with invalid value")
    _, unchanged = get(setting["links"]["self"])
    require(unchanged["value"] == new_value, "an invalid PUT changed %s to %r" % (setting["id"], unchanged["value"]))

    # An action, the way the client calls one: POST to the URL in the resource's actions map, the
    # input as JSON; the answer is the resource after it.
    _, nodes = get(BASE + "/v1/nodes")
    node = nodes["data"][0]
    disk_update = node["actions"].get("diskUpdate")
    require(isinstance(disk_update, str), "node %s: no diskUpdate action" % node["id"])
    disks = {name: {"path": disk["path"], "allowScheduling": False, "tags": disk.get("tags", [])}
             for name, disk in node["disks"].items()}
    request = requests.Request("POST", disk_update, headers=HEADERS, data=json.dumps({"disks": disks})).prepare()
    response = requests.Session().send(request, timeout=20)
    require(response.status_code == 200, "POST %s: status %d: %s" % (disk_update, response.status_code, response.text[:300]))
    acted = response.json()
    check_resource(acted, "diskUpdate of " + node["id"])
    require(acted["type"] == "node" and acted["id"] == node["id"], "diskUpdate answered %s/%s" % (acted["type"], acted["id"]))
    require(all(not disk["allowScheduling"] for disk in acted["disks"].values()), "diskUpdate: a disk still allows scheduling")
    _, reread = get(node["links"]["self"])
    require(all(not disk["allowScheduling"] for disk in reread["disks"].values()), "GET after diskUpdate: not stored")
    bad = requests.post(disk_update, headers=HEADERS, data="{not json", timeout=20)
    check_error(bad, 400, "diskUpdate with a malformed body")
    actions = "diskUpdate"

    # The settings stream, when websocket-client is at hand: the collection, then the change.
    streamed = "skipped (no websocket-client)"
    try:
        import websocket
    except ImportError:
        websocket = None
    if websocket is not None:
        ws_url = BASE.replace("http://", "ws://", 1) + "/v1/ws/0s/settings"
        connection = websocket.create_connection(ws_url, timeout=20, header=["Authorization: Basic Og=="])
        first = json.loads(connection.recv())
        check_collection(first, "stream first message")
        require(first["resourceType"] == "setting", "stream: resourceType %r" % first["resourceType"])
        require(len(first["data"]) == len(settings["data"]), "stream: %d settings, the list has %d" % (len(first["data"]), len(settings["data"])))
        streamed_value = "false" if new_value == "true" else "true"
        requests.put(setting["links"]["self"], headers=HEADERS, data=json.dumps({"value": streamed_value}), timeout=20)
        second = json.loads(connection.recv())
        check_collection(second, "stream second message")
        value = next(s["value"] for s in second["data"] if s["id"] == setting["id"])
        require(value == streamed_value, "stream: %s is %r after the change, not %r" % (setting["id"], value, streamed_value))
        connection.close()
        streamed = "the initial collection and the change"

    print(json.dumps({"schemas": counts["schemas"], "collections": counts["collections"], "resources": counts["resources"], "stream": streamed, "actions": actions}))
    """#
