#!/usr/bin/env python3
"""The DaemonSet manifest, read for the deployment tests.

  manifest.py check FILE
      Every document is decoded by kubectl into the Kubernetes API's own
      types, offline (`kubectl set image --local`, for kinds with a pod
      template): a field the API does not know is dropped by that decoding
      and a value of the wrong type fails it, so each field of the input must
      come back with its value. Kinds without a pod template (Namespace) are
      decoded by `kubectl label --local`, which checks less. Exit 1 on the
      first problem, naming the field.

  manifest.py docker-args FILE --host-prefix DIR --keep PATH... --map HOST=DIR... --env NAME=VALUE...
      The `docker run` arguments that run the DaemonSet's pod as Kubernetes
      would on a node (one per line, image and command last): --privileged,
      --pid=host, each hostPath volume bind-mounted at its mountPath (ro and
      rslave as the mount says), the environment (fieldRef values from
      --env), the command with $(VAR) expanded. The host paths of a test's
      engine live below --host-prefix, but for those under a --keep path
      (/sys: the real kernel's) and those given by --map.
"""
import json
import subprocess
import sys
import tempfile

import yaml


def documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def lookup(value, path):
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or key >= len(value):
                return KeyError
        elif not isinstance(value, dict) or key not in value:
            return KeyError
        value = value[key]
    return value


def shown(path):
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)[1:]


def pod_spec(doc):
    return doc.get("spec", {}).get("template", {}).get("spec")


def check(path):
    for doc in documents(path):
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(doc, f)
            f.flush()
            spec = pod_spec(doc)
            if spec:
                # An image kubectl must change, or it prints nothing; put back below.
                images = [f"{c['name']}=traceloop-check" for c in spec["containers"]]
                cmd = ["kubectl", "set", "image", "--local", "-f", f.name, "-o", "json"] + images
            else:
                cmd = ["kubectl", "label", "--local", "-f", f.name, "-o", "json", "traceloop-check=1"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{path}: {name}: kubectl refused it: {done.stderr.strip()}")
            typed = json.loads(done.stdout)
            if spec:
                for original, back in zip(spec["containers"], pod_spec(typed)["containers"]):
                    back["image"] = original["image"]
        for field, value in leaves(doc):
            back = lookup(typed, field)
            if back is KeyError:
                sys.exit(f"{path}: {name}: {shown(field)} is not a field of the Kubernetes API")
            if back != value and str(back) != str(value):
                sys.exit(f"{path}: {name}: {shown(field)} = {value!r} reads back as {back!r}")
    print(f"{path}: valid")


def docker_args(path, argv):
    prefix, keep, maps, env_values = None, [], {}, {}
    it = iter(argv)
    for a in it:
        if a == "--host-prefix":
            prefix = next(it)
        elif a == "--keep":
            keep.append(next(it))
        elif a == "--map":
            host, _, local = next(it).partition("=")
            maps[host] = local
        elif a == "--env":
            k, _, v = next(it).partition("=")
            env_values[k] = v
        else:
            sys.exit(f"unknown argument {a}")
    ds = next(d for d in documents(path) if d.get("kind") == "DaemonSet")
    spec = pod_spec(ds)
    (container,) = spec["containers"]
    args = []
    if spec.get("hostPID"):
        args.append("--pid=host")
    if container.get("securityContext", {}).get("privileged"):
        args.append("--privileged")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for m in container.get("volumeMounts", []):
        host = volumes[m["name"]]["hostPath"]["path"]
        if host in maps:
            source = maps[host]
        elif any(host == k or host.startswith(k.rstrip("/") + "/") for k in keep):
            source = host
        else:
            source = prefix.rstrip("/") + host
        options = []
        if m.get("readOnly"):
            options.append("ro")
        if m.get("mountPropagation") == "HostToContainer":
            options.append("rslave")
        args += ["-v", f"{source}:{m['mountPath']}" + (":" + ",".join(options) if options else "")]
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            field = e["valueFrom"]["fieldRef"]["fieldPath"]
            if field not in env_values:
                sys.exit(f"no value for {e['name']} (fieldRef {field}): give --env {field}=VALUE")
            env[e["name"]] = env_values[field]
    for k, v in env.items():
        args += ["-e", f"{k}={v}"]
    command = container.get("command", []) + container.get("args", [])
    for k, v in env.items():
        command = [c.replace(f"$({k})", v) for c in command]
    args += ["--entrypoint", command[0], container["image"]] + command[1:]
    print("\n".join(args))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[1] == "check":
        check(sys.argv[2])
    elif sys.argv[1] == "docker-args":
        docker_args(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
