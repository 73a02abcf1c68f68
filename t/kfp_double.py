#!/usr/bin/env python3
"""kfp_double: a protocol double of the Kubeflow Pipelines v1beta1 API server
(and, with --mode kube, of the Kubernetes API for custom resources), written
for kf's tests. It is not a KFP server: it keeps a few objects in memory and
answers in the shapes the real server uses.

Every request is checked against the swagger files in t/fixtures/2000/swagger
(copied from kubeflow/pipelines, backend/api/v1beta1/swagger): the route and
method, the query parameters and their types, the content type, the JSON body
against its schema (unknown fields, types, enums, date-times), the multipart
form fields. Its own 200 answers are checked against the response schema too.
A request the double cannot match is a protocol failure: it is appended to
STATE/failures.log, which the tests assert stays empty, and answered 404/400.

Besides the swagger, the server rules the README of the anchor describes are
enforced: uploads must be .yaml/.zip/.tar.gz holding an argoproj.io/v1alpha1
Workflow (member pipeline.yaml), a run names exactly one of workflow_manifest
and pipeline_id, parameters must be known, max_concurrency is 1..10, a cron
has 6 fields, interval_second >= 1.

Usage: kfp_double.py --state DIR [--mode kfp|kube] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
  Writes the port it listens on (127.0.0.1) to DIR/port. With --tls-cert it
  speaks HTTPS; with --tls-client-ca it also requires a client certificate
  signed by that CA (as a Kubernetes API server does for kubeconfig users). Every request is
  appended to DIR/requests.jsonl; uploaded package bytes are kept in
  DIR/uploads/<pipeline or version id>. DIR/control.json, read on every
  request, changes behaviour:
    {"token": "T"}                  require "Authorization: Bearer T" (else 401)
    {"cookie": "name=value"}        require that cookie (else 401, or with
                                    "login_redirect": URL a 302 to URL, as Dex's
                                    authservice answers)
    {"fail": [{"method": "POST", "path": "/apis/v1beta1/runs", "status": 500,
               "message": "...", "times": 1}]}     answer an error
    {"hang": [{"method": "GET", "path": "...", "seconds": 5, "times": 1}]}
    {"drop_upload": true}           read half an upload, then drop the connection
    {"run_phases": ["Pending", "Running", "Succeeded"]}  states a run goes
                                    through, one step per GET of the run
    {"kube_phases": [...]}          the same for custom resources (kube mode)
  "path" matches a prefix of the request path.
"""

import argparse
import email.parser
import email.policy
import io
import json
import os
import re
import socket
import ssl
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

try:
    import yaml
except ImportError:  # pragma: no cover - the tests need python3-yaml
    sys.exit("kfp_double: python3-yaml is needed (apt-get install python3-yaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
SWAGGER_DIR = os.path.join(HERE, "fixtures", "2000", "swagger")
SWAGGER_FILES = ["pipeline.upload", "pipeline", "run", "experiment", "job", "healthz"]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 500: 13, 503: 14}


class ProtocolError(Exception):
    """The request does not follow the API: a test failure."""


class ApiError(Exception):
    """The request is valid protocol but the server refuses it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---- swagger ------------------------------------------------------------

class Route:
    def __init__(self, method, template, op, definitions, source):
        self.method = method
        self.template = template
        self.op = op
        self.definitions = definitions
        self.source = source
        names = re.findall(r"\{([^}]+)\}", template)
        pattern = re.escape(template)
        for n in names:
            pattern = pattern.replace(re.escape("{%s}" % n), "(?P<%s>[^/]+?)" % n.replace(".", "_"))
        self.regex = re.compile("^" + pattern + "$")
        self.params = op.get("parameters", [])
        self.consumes = op.get("consumes")

    def match(self, path):
        m = self.regex.match(path)
        return {k: unquote(v) for k, v in m.groupdict().items()} if m else None


def load_routes():
    routes = []
    for name in SWAGGER_FILES:
        with open(os.path.join(SWAGGER_DIR, name + ".swagger.json")) as f:
            doc = json.load(f)
        for template, ops in doc["paths"].items():
            for method, op in ops.items():
                routes.append(Route(method.upper(), template, op, doc["definitions"], name))
    # ":archive"-style routes must win over "{id}" ones
    routes.sort(key=lambda r: -len(r.template))
    return routes


def resolve(schema, definitions):
    while "$ref" in schema:
        schema = definitions[schema["$ref"].split("/")[-1]]
    return schema


def check_value(value, schema, definitions, where, errors):
    schema = resolve(schema, definitions)
    typ = schema.get("type", "object" if "properties" in schema else None)
    fmt = schema.get("format")
    if "enum" in schema:
        if value not in schema["enum"]:
            errors.append("%s: %r is not one of %s" % (where, value, schema["enum"]))
        return
    if typ == "object":
        if not isinstance(value, dict):
            errors.append("%s: expected an object, got %r" % (where, value))
            return
        props = schema.get("properties")
        if props is None:  # free-form (additionalProperties)
            return
        for k, v in value.items():
            if k not in props:
                errors.append("%s: unknown field %r" % (where, k))
            else:
                check_value(v, props[k], definitions, where + "." + k, errors)
    elif typ == "array":
        if not isinstance(value, list):
            errors.append("%s: expected an array" % where)
            return
        for i, v in enumerate(value):
            check_value(v, schema.get("items", {}), definitions, "%s[%d]" % (where, i), errors)
    elif typ == "string":
        if fmt == "int64" or fmt == "uint64":
            # proto3 JSON: 64-bit integers as strings (numbers accepted too)
            if not (isinstance(value, int) or (isinstance(value, str) and re.match(r"^-?\d+$", value))):
                errors.append("%s: %r is not an int64" % (where, value))
        elif not isinstance(value, str):
            errors.append("%s: expected a string, got %r" % (where, value))
        elif fmt == "date-time" and not RFC3339.match(value):
            errors.append("%s: %r is not an RFC 3339 date-time" % (where, value))
    elif typ == "boolean":
        if not isinstance(value, bool):
            errors.append("%s: expected a boolean, got %r" % (where, value))
    elif typ == "integer":
        if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                isinstance(value, str) and re.match(r"^-?\d+$", value)):
            errors.append("%s: expected an integer, got %r" % (where, value))
    elif typ == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append("%s: expected a number" % where)


def parse_multipart(ctype, body):
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise ProtocolError("body is not multipart/form-data")
    parts = {}
    for part in msg.iter_parts():
        disp = part.get("Content-Disposition", "")
        if not disp.startswith("form-data"):
            raise ProtocolError("multipart part without Content-Disposition: form-data")
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get_payload(decode=True))
    return parts


# ---- packages, as the API server reads them ------------------------------

def read_package(filename, data):
    low = filename.lower()
    if low.endswith((".yaml", ".yml", ".json")):
        text = data
    elif data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            pick = "pipeline.yaml" if "pipeline.yaml" in names else (names[0] if names else "")
            if not pick.endswith((".yaml", ".yml")):
                raise ApiError(400, "Invalid package. Missing pipeline yaml file in the package.")
            text = z.read(pick)
    elif data[:2] == b"\x1f\x8b":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            members = [m for m in t.getmembers() if m.isfile()]
            pick = next((m for m in members if m.name == "pipeline.yaml"), members[0] if members else None)
            if pick is None or not pick.name.endswith((".yaml", ".yml")):
                raise ApiError(400, "Invalid package. Missing pipeline yaml file in the package.")
            text = t.extractfile(pick).read()
    else:
        raise ApiError(400, "Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML.")
    try:
        wf = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ApiError(400, "Failed to parse the pipeline spec: %s" % e)
    if not isinstance(wf, dict) or wf.get("apiVersion") != "argoproj.io/v1alpha1" or wf.get("kind") != "Workflow":
        raise ApiError(400, "Unexpected resource type. Expected: argoproj.io/v1alpha1 Workflow.")
    return wf


def wf_parameters(wf):
    params = ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    out = []
    for p in params:
        item = {"name": p["name"]}
        if "value" in p:
            item["value"] = str(p["value"])
        out.append(item)
    return out


# ---- the server state ----------------------------------------------------

class State:
    def __init__(self, state_dir, mode):
        self.dir = state_dir
        self.mode = mode
        self.lock = threading.Lock()
        self.counter = 0
        self.pipelines = {}
        self.versions = {}
        self.experiments = {}
        self.runs = {}
        self.jobs = {}
        self.kube = {}
        self.rule_uses = {}
        os.makedirs(os.path.join(state_dir, "uploads"), exist_ok=True)
        default = self.new_id("experiment")
        self.experiments[default] = {"id": default, "name": "Default", "description": "All runs created without specifying an experiment will be grouped here.",
                                     "created_at": now(), "storage_state": "STORAGESTATE_AVAILABLE"}

    def new_id(self, kind):
        self.counter += 1
        kinds = {"pipeline": 1, "version": 2, "experiment": 3, "run": 4, "job": 5, "kube": 6}
        return "%08x-%04x-4000-8000-000000000000" % (self.counter, kinds[kind])

    def control(self):
        try:
            with open(os.path.join(self.dir, "control.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def take_rule(self, kind, method, path):
        """The first fail/hang rule matching the request that has uses left."""
        for i, rule in enumerate(self.control().get(kind, [])):
            if rule.get("method", method) != method or not path.startswith(rule.get("path", "")):
                continue
            key = (kind, i, json.dumps(rule, sort_keys=True))
            used = self.rule_uses.get(key, 0)
            if "times" in rule and used >= rule["times"]:
                continue
            self.rule_uses[key] = used + 1
            return rule
        return None

    def failure(self, line):
        with open(os.path.join(self.dir, "failures.log"), "a") as f:
            f.write(line + "\n")

    def record(self, entry):
        with open(os.path.join(self.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


# ---- KFP behaviour -------------------------------------------------------

def find_ref(obj, rtype):
    for ref in obj.get("resource_references") or []:
        if (ref.get("key") or {}).get("type") == rtype:
            return ref
    return None


def name_filter(query):
    if "filter" not in query:
        return None
    try:
        f = json.loads(query["filter"])
    except ValueError:
        raise ApiError(400, "Invalid input error: failed to parse the filter")
    errors = []
    with open(os.path.join(SWAGGER_DIR, "filter.swagger.json")) as fh:
        defs = json.load(fh)["definitions"]
    check_value(f, {"$ref": "#/definitions/apiFilter"}, defs, "filter", errors)
    if errors:
        raise ProtocolError("; ".join(errors))
    for p in f.get("predicates", []):
        if p.get("key") == "name" and p.get("op") == "EQUALS":
            return p.get("string_value")
    return None


def paged(items, query, field):
    size = int(query.get("page_size", "20") or 20)
    start = int(query.get("page_token") or 0)
    page = items[start:start + size]
    out = {field: page, "total_size": len(items)}
    if start + size < len(items):
        out["next_page_token"] = str(start + size)
    if not page:
        out = {"total_size": len(items)}  # the gateway omits empty lists
    return out


class Kfp:
    def __init__(self, state):
        self.s = state

    def check_spec(self, spec, where):
        has_wf = bool(spec.get("workflow_manifest"))
        has_id = bool(spec.get("pipeline_id"))
        if has_wf == has_id:
            raise ApiError(400, "Invalid input error: Please specify a pipeline by providing a (workflow manifest) or (pipeline id or/and pipeline version).")
        if has_wf:
            try:
                wf = json.loads(spec["workflow_manifest"])
            except ValueError:
                raise ApiError(400, "Invalid input error: Failed to unmarshal workflow spec manifest.")
            if wf.get("kind") != "Workflow":
                raise ApiError(400, "Invalid input error: Unexpected resource type. Expected: Workflow.")
        else:
            p = self.s.pipelines.get(spec["pipeline_id"])
            if not p:
                raise ApiError(404, "Pipeline %s not found." % spec["pipeline_id"])
            wf = json.loads(json.dumps(p["_wf"]))
        known = {p["name"] for p in wf_parameters(wf)}
        for p in spec.get("parameters") or []:
            if p.get("name") not in known:
                raise ApiError(400, "Invalid input error: Unrecognized input parameter: %s" % p.get("name"))
        for arg in ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
            for p in spec.get("parameters") or []:
                if p["name"] == arg["name"]:
                    arg["value"] = p.get("value", "")
        return wf

    def experiment_of(self, obj):
        ref = find_ref(obj, "EXPERIMENT")
        if ref is None:
            return next(e for e in self.s.experiments.values() if e["name"] == "Default")
        exp = self.s.experiments.get(ref["key"].get("id"))
        if not exp:
            raise ApiError(404, "Experiment %s not found." % ref["key"].get("id"))
        if ref.get("relationship") != "OWNER":
            raise ApiError(400, "Invalid input error: an experiment reference must be OWNER")
        return exp

    def upload(self, query, parts, version):
        if set(parts) != {"uploadfile"}:
            raise ProtocolError("multipart fields %s, expected exactly uploadfile" % sorted(parts))
        filename, data = parts["uploadfile"]
        if not filename:
            raise ProtocolError("uploadfile part has no filename")
        if self.s.control().get("drop_upload"):
            raise ProtocolError("drop_upload reached the handler")
        if len(data) > 32 << 20:
            raise ApiError(400, "File size too large. Maximum supported size: 32MB")
        wf = read_package(filename, data)
        name = query.get("name") or filename
        if version:
            pid = query.get("pipelineid")
            if not pid or pid not in self.s.pipelines:
                raise ApiError(404, "Pipeline %s not found." % pid)
            if any(v["name"] == name and v["_pipeline"] == pid for v in self.s.versions.values()):
                raise ApiError(409, "Failed to create a version: The name %s already exist. Please specify a new name." % name)
            vid = self.s.new_id("version")
            obj = {"id": vid, "name": name, "created_at": now(), "parameters": wf_parameters(wf),
                   "resource_references": [{"key": {"type": "PIPELINE", "id": pid}, "relationship": "OWNER"}]}
            self.s.versions[vid] = dict(obj, _pipeline=pid, _wf=wf)
            self.s.pipelines[pid]["_wf"] = wf
            key = vid
        else:
            if any(p["name"] == name for p in self.s.pipelines.values()):
                raise ApiError(409, "Failed to upload pipeline: The name %s already exist. Please specify a new name." % name)
            pid = self.s.new_id("pipeline")
            obj = {"id": pid, "name": name, "created_at": now(), "parameters": wf_parameters(wf)}
            if query.get("description"):
                obj["description"] = query["description"]
            self.s.pipelines[pid] = dict(obj, _wf=wf)
            key = pid
        with open(os.path.join(self.s.dir, "uploads", key), "wb") as f:
            f.write(data)
        return obj

    def node_status(self, wf, run_id, phase):
        """A live Argo status: one Pod node per task of the entry DAG."""
        spec = wf.get("spec") or {}
        templates = {t["name"]: t for t in spec.get("templates", [])}
        entry = templates.get(spec.get("entrypoint"), {})
        tasks = (entry.get("dag") or {}).get("tasks") or []
        name = (wf.get("metadata") or {}).get("name") or "run-" + run_id[:8]
        nodes = {name: {"id": name, "name": name, "displayName": name, "type": "DAG", "phase": phase}}
        for i, t in enumerate(tasks):
            if phase == "Pending":
                p = "Pending"
            elif phase == "Running":
                p = "Succeeded" if i == 0 and len(tasks) > 1 else "Running"
            elif phase in ("Failed", "Error"):
                p = "Failed" if i == len(tasks) - 1 else "Succeeded"
            else:
                p = phase
            node_id = "%s-%d" % (name, 1000 + i)
            n = {"id": node_id, "name": "%s.%s" % (name, t["name"]), "displayName": t["name"],
                 "type": "Pod", "templateName": t.get("template", t["name"]), "phase": p}
            if p != "Pending":
                n["startedAt"] = "2026-01-01T00:00:%02dZ" % i
            if p == "Failed":
                n["message"] = "Error (exit code 1)"
            nodes[node_id] = n
        return {"phase": phase, "nodes": nodes}

    def run_detail(self, run, advance):
        phases = self.s.control().get("run_phases", ["Pending", "Running", "Succeeded"])
        if advance and run["_step"] < len(phases) - 1 and run["status"] not in ("Terminating", "Failed"):
            run["_step"] += 1
        if run["status"] not in ("Terminating",) and not run.get("_terminated"):
            run["status"] = phases[min(run["_step"], len(phases) - 1)]
        wf = json.loads(json.dumps(run["_wf"]))
        wf.setdefault("metadata", {}).setdefault("labels", {})["pipeline/runid"] = run["id"]
        wf["status"] = self.node_status(wf, run["id"], run["status"])
        pub = {k: v for k, v in run.items() if not k.startswith("_")}
        return {"run": pub, "pipeline_runtime": {"workflow_manifest": json.dumps(wf)}}

    def handle(self, method, route, params, query, body, parts):
        s = self.s
        t = route.template
        if t == "/apis/v1beta1/healthz":
            return {"multi_user": False}
        if t == "/apis/v1beta1/pipelines/upload":
            return self.upload(query, parts, False)
        if t == "/apis/v1beta1/pipelines/upload_version":
            return self.upload(query, parts, True)
        if t == "/apis/v1beta1/pipelines" and method == "GET":
            name = name_filter(query)
            items = [{k: v for k, v in p.items() if not k.startswith("_")} for p in s.pipelines.values()
                     if name is None or p["name"] == name]
            return paged(items, query, "pipelines")
        if t == "/apis/v1beta1/pipelines/{id}" and method == "GET":
            p = s.pipelines.get(params["id"])
            if not p:
                raise ApiError(404, "Pipeline %s not found." % params["id"])
            return {k: v for k, v in p.items() if not k.startswith("_")}
        if t == "/apis/v1beta1/experiments" and method == "POST":
            if not body.get("name"):
                raise ApiError(400, "Invalid input error: Experiment name is empty. Please specify a valid experiment name.")
            if any(e["name"] == body["name"] for e in s.experiments.values()):
                raise ApiError(409, "Failed to create a new experiment: The name %s already exist. Please specify a new name." % body["name"])
            eid = s.new_id("experiment")
            exp = dict(body, id=eid, created_at=now(), storage_state="STORAGESTATE_AVAILABLE")
            s.experiments[eid] = exp
            return exp
        if t == "/apis/v1beta1/experiments" and method == "GET":
            name = name_filter(query)
            items = [e for e in s.experiments.values() if name is None or e["name"] == name]
            return paged(items, query, "experiments")
        if t == "/apis/v1beta1/experiments/{id}" and method == "GET":
            e = s.experiments.get(params["id"])
            if not e:
                raise ApiError(404, "Experiment %s not found." % params["id"])
            return e
        if t == "/apis/v1beta1/runs" and method == "POST":
            if not body.get("name"):
                raise ApiError(400, "Invalid input error: The run name is empty. Please specify a valid name.")
            wf = self.check_spec(body.get("pipeline_spec") or {}, "run")
            exp = self.experiment_of(body)
            rid = s.new_id("run")
            run = dict(body, id=rid, created_at=now(), status="", storage_state="STORAGESTATE_AVAILABLE",
                       _wf=wf, _step=0)
            run["resource_references"] = [{"key": {"type": "EXPERIMENT", "id": exp["id"]}, "name": exp["name"],
                                           "relationship": "OWNER"}]
            run["scheduled_at"] = "1970-01-01T00:00:00Z"
            run["finished_at"] = "1970-01-01T00:00:00Z"
            s.runs[rid] = run
            return self.run_detail(run, False)
        if t == "/apis/v1beta1/runs" and method == "GET":
            items = list(s.runs.values())
            key = query.get("resource_reference_key.type")
            if key == "EXPERIMENT":
                items = [r for r in items if find_ref(r, "EXPERIMENT")["key"]["id"] == query.get("resource_reference_key.id")]
            items = [{k: v for k, v in r.items() if not k.startswith("_")} for r in reversed(items)]
            return paged(items, query, "runs")
        if t == "/apis/v1beta1/runs/{run_id}" and method == "GET":
            run = s.runs.get(params["run_id"])
            if not run:
                raise ApiError(404, "Run %s not found." % params["run_id"])
            return self.run_detail(run, True)
        if t in ("/apis/v1beta1/runs/{run_id}/terminate", "/apis/v1beta1/runs/{run_id}/retry"):
            run = s.runs.get(params["run_id"])
            if not run:
                raise ApiError(404, "Run %s not found." % params["run_id"])
            if t.endswith("terminate"):
                run["status"] = "Failed"
                run["_terminated"] = True
            else:
                if run["status"] not in ("Failed", "Error"):
                    raise ApiError(400, "Invalid input error: Workflow cannot be retried: the run has not failed")
                run["_terminated"] = False
                run["_step"] = 0
                run["status"] = "Running"
            return {}
        if t == "/apis/v1beta1/jobs" and method == "POST":
            return self.create_job(body)
        if t == "/apis/v1beta1/jobs" and method == "GET":
            items = [{k: v for k, v in j.items() if not k.startswith("_")} for j in s.jobs.values()]
            return paged(items, query, "jobs")
        if t.startswith("/apis/v1beta1/jobs/{id}"):
            job = s.jobs.get(params["id"])
            if not job:
                raise ApiError(404, "Job %s not found." % params["id"])
            if method == "GET":
                return {k: v for k, v in job.items() if not k.startswith("_")}
            if method == "DELETE":
                del s.jobs[params["id"]]
                return {}
            enabled = t.endswith("/enable")
            job["enabled"] = enabled
            job["mode"] = "ENABLED" if enabled else "DISABLED"
            job["status"] = "Enabled" if enabled else "Disabled"
            job["updated_at"] = now()
            return {}
        raise ProtocolError("the double does not implement %s %s" % (method, t))

    def create_job(self, body):
        if not body.get("name"):
            raise ApiError(400, "Invalid input error: The job name is empty. Please specify a valid name.")
        self.check_spec(body.get("pipeline_spec") or {}, "job")
        self.experiment_of(body)
        mc = int(body.get("max_concurrency", "1"))
        if mc < 1 or mc > 10:
            raise ApiError(400, "Invalid input error: The max concurrency of the job is out of range. Support 1-10. Received %d." % mc)
        trig = body.get("trigger") or {}
        if bool(trig.get("cron_schedule")) == bool(trig.get("periodic_schedule")):
            raise ApiError(400, "Invalid input error: Found both or neither cron and periodic schedules")
        if trig.get("cron_schedule") and len(trig["cron_schedule"].get("cron", "").split()) != 6:
            raise ApiError(400, "Invalid input error: Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: Expected 6 fields, found %d" % len(trig["cron_schedule"].get("cron", "").split()))
        if trig.get("periodic_schedule") and int(trig["periodic_schedule"].get("interval_second", "0")) < 1:
            raise ApiError(400, "Invalid input error: Found invalid period schedule. Interval should be at least 1 second.")
        jid = self.s.new_id("job")
        job = dict(body, id=jid, created_at=now(), updated_at=now(), mode="ENABLED" if body.get("enabled") else "DISABLED",
                   status="Enabled" if body.get("enabled") else "Disabled")
        self.s.jobs[jid] = job
        return {k: v for k, v in job.items() if not k.startswith("_")}


# ---- Kubernetes behaviour (mode kube) -----------------------------------

KUBE_ROUTE = re.compile(r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(/(?P<name>[^/]+))?$")
KUBE_KINDS = {
    ("argoproj.io", "workflows"): "Workflow",
    ("kubeflow.org", "tfjobs"): "TFJob",
    ("kubeflow.org", "pytorchjobs"): "PyTorchJob",
    ("kubeflow.org", "experiments"): "Experiment",
    ("serving.kserve.io", "inferenceservices"): "InferenceService",
}


def kube_status(kind, phase):
    """Status in the shape each controller writes."""
    if kind == "Workflow":
        return {"phase": phase}
    if kind == "InferenceService":
        ready = "True" if phase == "Succeeded" else "False"
        return {"conditions": [{"type": "Ready", "status": ready}],
                "url": "http://model.default.example.com" if ready == "True" else None}
    conds = [{"type": "Created", "status": "True"}]
    if phase in ("Running", "Succeeded", "Failed"):
        conds.append({"type": "Running", "status": "True" if phase == "Running" else "False"})
    if phase in ("Succeeded", "Failed"):
        conds.append({"type": phase, "status": "True", "message": "job %s" % phase.lower()})
    return {"conditions": conds}


class Kube:
    def __init__(self, state):
        self.s = state

    def handle(self, method, path, body):
        m = KUBE_ROUTE.match(path)
        if not m:
            raise ProtocolError("no Kubernetes route %s" % path)
        key = (m["group"], m["plural"])
        if key not in KUBE_KINDS:
            raise ApiError(404, "the server could not find the requested resource")
        kind = KUBE_KINDS[key]
        store = self.s.kube
        if method == "POST" and not m["name"]:
            if body.get("apiVersion") != "%s/%s" % (m["group"], m["version"]) or body.get("kind") != kind:
                raise ProtocolError("body %s/%s posted to %s" % (body.get("apiVersion"), body.get("kind"), path))
            meta = body.setdefault("metadata", {})
            if meta.get("namespace", m["ns"]) != m["ns"]:
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the request")
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise ApiError(422, "%s.%s \"\" is invalid: metadata.name: Required value: name or generateName is required" % (m["plural"], m["group"]))
                self.s.counter += 1
                meta["name"] = meta["generateName"] + "x%04d" % self.s.counter
            k = (key, m["ns"], meta["name"])
            if k in store:
                raise ApiError(409, "%s.%s \"%s\" already exists" % (m["plural"], m["group"], meta["name"]))
            meta.update(namespace=m["ns"], uid=self.s.new_id("kube"), resourceVersion="1",
                        creationTimestamp=now())
            store[k] = {"obj": body, "step": 0}
            return 201, body
        if method == "GET" and m["name"]:
            ent = store.get((key, m["ns"], m["name"]))
            if not ent:
                raise ApiError(404, "%s.%s \"%s\" not found" % (m["plural"], m["group"], m["name"]))
            phases = self.s.control().get("kube_phases", ["Running", "Succeeded"])
            obj = ent["obj"]
            obj["status"] = kube_status(kind, phases[min(ent["step"], len(phases) - 1)])
            ent["step"] += 1
            return 200, obj
        raise ProtocolError("the double does not implement %s %s" % (method, path))


# ---- HTTP ----------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kfp-double/1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def error_body(self, route, status, message):
        if self.server.state.mode == "kube":
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": message, "code": status}
        code = GRPC.get(status, 2)
        if route is not None and route.source == "pipeline.upload":
            return {"error": message, "code": code, "details": []}   # apiStatus
        return {"code": code, "message": message, "details": []}      # googleRpcStatus

    def dispatch(self, method):
        state = self.server.state
        url = urlsplit(self.path)
        path = url.path
        query_pairs = parse_qsl(url.query, keep_blank_values=True)
        query = dict(query_pairs)
        ctype = self.headers.get("Content-Type", "")
        length = int(self.headers.get("Content-Length", "0") or 0)
        entry = {"method": method, "path": path, "query": query,
                 "authorization": self.headers.get("Authorization"), "cookie": self.headers.get("Cookie"),
                 "content_type": ctype.split(";")[0]}
        ctl = state.control()
        if ctl.get("drop_upload") and path.endswith(("/pipelines/upload", "/pipelines/upload_version")):
            self.rfile.read(max(1, length // 2))
            entry["dropped"] = True
            state.record(entry)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        raw = self.rfile.read(length) if length else b""
        with state.lock:
            hang = state.take_rule("hang", method, path)
        if hang:
            entry["hung"] = True
            state.record(entry)
            time.sleep(hang.get("seconds", 5))
            self.close_connection = True
            return
        route = None
        try:
            if ctl.get("token") and self.headers.get("Authorization") != "Bearer " + ctl["token"]:
                raise ApiError(401, "Unauthorized: invalid or missing bearer token" if state.mode == "kfp"
                               else "Unauthorized")
            if ctl.get("cookie") and ctl["cookie"] not in (self.headers.get("Cookie") or "").split("; "):
                if ctl.get("login_redirect"):
                    # what oauth2-proxy/authservice in front of Dex does
                    state.record(dict(entry, redirected=True))
                    self.send_response(302)
                    self.send_header("Location", ctl["login_redirect"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                raise ApiError(401, "Unauthorized: no valid session cookie")
            with state.lock:
                fail = state.take_rule("fail", method, path)
            if state.mode == "kube":
                body = self.json_body(raw, ctype, True) if method == "POST" else None
                entry["body"] = body
                if fail:
                    raise ApiError(fail.get("status", 500), fail.get("message", "internal error"))
                with state.lock:
                    status, obj = Kube(state).handle(method, path, body)
                state.record(entry)
                self.send_json(status, obj)
                return
            if path.startswith("/apis/v1alpha1/runs/") and path.endswith("/log") and method == "GET":
                # the log route (README of the anchor; not in the v1beta1 swagger)
                state.record(entry)
                m = re.match(r"^/apis/v1alpha1/runs/([^/]+)/nodes/([^/]+)/log$", path)
                if not m or m[1] not in state.runs:
                    raise ApiError(404, "Run not found")
                with state.lock:
                    run = state.runs[m[1]]
                    node = Kfp(state).node_status(run["_wf"], run["id"], run["status"])["nodes"].get(m[2])
                if node is None:
                    raise ApiError(404, "Node %s not found in run %s" % (m[2], m[1]))
                # the log grows as the step runs
                text = "log of node %s\n" % m[2]
                if node["phase"] in ("Succeeded", "Failed"):
                    text += "%s %s\n" % (node["displayName"], node["phase"].lower())
                self.send_text(200, text)
                return
            route, params = self.find_route(method, path)
            body, parts = self.check_request(route, query_pairs, ctype, raw)
            entry["body"] = body
            if parts is not None:
                entry["multipart"] = {k: {"filename": v[0], "size": len(v[1])} for k, v in parts.items()}
            if fail:
                raise ApiError(fail.get("status", 500), fail.get("message", "internal error"))
            with state.lock:
                obj = Kfp(state).handle(method, route, params, query, body, parts)
            errors = []
            check_value(obj, route.op["responses"]["200"].get("schema", {"type": "object"}),
                        route.definitions, "response", errors)
            if errors:
                state.failure("%s %s: the double's own answer breaks the schema: %s" % (method, path, "; ".join(errors)))
            state.record(entry)
            self.send_json(200, obj)
        except ProtocolError as e:
            entry["protocol_error"] = str(e)
            state.record(entry)
            state.failure("%s %s: %s" % (method, self.path, e))
            self.send_json(404 if "route" in str(e) else 400, self.error_body(route, 400, "protocol double: %s" % e))
        except ApiError as e:
            entry["error"] = e.message
            state.record(entry)
            self.send_json(e.status, self.error_body(route, e.status, e.message))

    def find_route(self, method, path):
        methods = []
        for r in self.server.routes:
            params = r.match(path)
            if params is None:
                continue
            if r.method == method:
                return r, params
            methods.append(r.method)
        if methods:
            raise ProtocolError("method %s not allowed on this route (allowed: %s)" % (method, ", ".join(methods)))
        raise ProtocolError("no route for %s in the swagger files" % path)

    def json_body(self, raw, ctype, required):
        if not raw:
            if required:
                raise ProtocolError("a JSON body is required")
            return None
        if ctype.split(";")[0].strip() != "application/json":
            raise ProtocolError("content type %r, expected application/json" % ctype)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ProtocolError("body is not JSON: %s" % e)

    def check_request(self, route, query_pairs, ctype, raw):
        errors = []
        declared = {p["name"]: p for p in route.params if p["in"] == "query"}
        seen = set()
        for k, v in query_pairs:
            p = declared.get(k)
            if p is None:
                errors.append("query parameter %r is not in the swagger" % k)
                continue
            if k in seen:
                errors.append("query parameter %r given twice" % k)
            seen.add(k)
            if p.get("type") == "integer" and not re.match(r"^-?\d+$", v):
                errors.append("query parameter %r=%r is not an integer" % (k, v))
        for p in route.params:
            if p.get("required") and p["in"] == "query" and p["name"] not in seen:
                errors.append("required query parameter %r missing" % p["name"])
        body = parts = None
        body_param = next((p for p in route.params if p["in"] == "body"), None)
        form = [p for p in route.params if p["in"] == "formData"]
        if form:
            if not ctype.startswith("multipart/form-data"):
                errors.append("content type %r, expected multipart/form-data" % ctype)
            else:
                parts = parse_multipart(ctype, raw)
                names = {p["name"]: p for p in form}
                for name, (filename, _) in parts.items():
                    if name not in names:
                        errors.append("form field %r is not in the swagger" % name)
                    elif names[name].get("type") == "file" and not filename:
                        errors.append("form field %r must be a file" % name)
                for p in form:
                    if p.get("required") and p["name"] not in parts:
                        errors.append("required form field %r missing" % p["name"])
        elif body_param:
            body = self.json_body(raw, ctype, body_param.get("required", False))
            if body is not None:
                check_value(body, body_param["schema"], route.definitions, body_param["name"], errors)
        elif raw:
            # POST :terminate and friends: grpc-gateway accepts an empty body or {}
            try:
                if json.loads(raw) != {}:
                    errors.append("this call takes no body")
            except ValueError:
                errors.append("this call takes no body")
        if errors:
            raise ProtocolError("; ".join(errors))
        return body if body is not None else {}, parts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--mode", choices=["kfp", "kube"], default="kfp")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-client-ca")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.tls_client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.state = State(args.state, args.mode)
    server.routes = load_routes()
    tmp = os.path.join(args.state, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, os.path.join(args.state, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
