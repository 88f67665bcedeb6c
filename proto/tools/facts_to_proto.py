#!/usr/bin/env python3
"""Writes our .proto files for Viam API packages from their wire facts: the
compiled descriptors that ship in the `viam-sdk` package (the same facts
`../shared/tools/wire_facts.py` prints). Field names, numbers and types,
services, methods and the `safety_heartbeat_monitored` option are kept;
comments and HTTP annotations are not (they do not reach the wire).

    target/venv/bin/python proto/tools/facts_to_proto.py common component.arm component.gripper ...

Each rpc is written on one line: `proto/build.rs` reads the monitored option
from there.
"""

import importlib
import pathlib
import sys

from google.protobuf.descriptor import FieldDescriptor as FD

ROOT = pathlib.Path(__file__).resolve().parents[1]
MONITORED = 84260
SCALARS = {getattr(FD, k): k[5:].lower() for k in dir(FD) if k.startswith("TYPE_")}


def type_name(f, package):
    if f.type in (FD.TYPE_MESSAGE, FD.TYPE_ENUM):
        t = f.message_type or f.enum_type
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            k, v = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
            return f"map<{type_name(k, package)}, {type_name(v, package)}>"
        return local(t.full_name, package)
    return SCALARS[f.type]


def local(full_name, package):
    """A type's name as written in `package`: short for its own types."""
    prefix = package + "."
    return full_name[len(prefix):] if full_name.startswith(prefix) else full_name


def field_line(f, package, indent):
    label = ""
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        label = ""
    elif f.is_repeated:
        label = "repeated "
    elif f.has_presence and f.containing_oneof is not None and f.containing_oneof.name.startswith("_"):
        label = "optional "
    return f"{indent}{label}{type_name(f, package)} {f.name} = {f.number};"


def enum_lines(e, indent):
    out = [f"{indent}enum {e.name} {{"]
    for v in e.values:
        out.append(f"{indent}  {v.name} = {v.number};")
    out.append(f"{indent}}}")
    return out


def message_lines(m, package, indent=""):
    out = [f"{indent}message {m.name} {{"]
    inner = indent + "  "
    written = set()
    for f in m.fields:
        o = f.containing_oneof
        if o is not None and not o.name.startswith("_"):
            if o.name in written:
                continue
            written.add(o.name)
            out.append(f"{inner}oneof {o.name} {{")
            for of in o.fields:
                out.append(field_line(of, package, inner + "  "))
            out.append(f"{inner}}}")
        else:
            out.append(field_line(f, package, inner))
    # Fields first: build.rs looks for `string name = 1;` before any `}`.
    for n in m.nested_types:
        if not n.GetOptions().map_entry:
            out += message_lines(n, package, inner)
    for e in m.enum_types:
        out += enum_lines(e, inner)
    out.append(f"{indent}}}")
    return out


def monitored(method):
    return any(fd.number == MONITORED and value for fd, value in method.GetOptions().ListFields())


def proto_text(module):
    fd = module.DESCRIPTOR
    package = fd.package
    lines = [
        f"// {package}, wire-compatible with the public Viam API: written from its",
        "// wire facts by proto/tools/facts_to_proto.py.",
        'syntax = "proto3";',
        "",
        f"package {package};",
        "",
    ]
    for dep in fd.dependencies:
        if dep.name.startswith("google/api/"):
            continue
        name = dep.name if dep.name.startswith("google/") else f"viam/{dep.name}"
        lines.append(f'import "{name}";')
    lines.append("")
    for x in fd.extensions_by_name.values():
        lines.append(f"extend {x.containing_type.full_name} {{")
        lines.append(f"  {type_name(x, package)} {x.name} = {x.number};")
        lines.append("}")
        lines.append("")
    for s in fd.services_by_name.values():
        lines.append(f"service {s.name} {{")
        for m in s.methods:
            cs = "stream " if m.client_streaming else ""
            ss = "stream " if m.server_streaming else ""
            opt = " { option (viam.common.v1.safety_heartbeat_monitored) = true; }" if monitored(m) else ";"
            req, resp = local(m.input_type.full_name, package), local(m.output_type.full_name, package)
            lines.append(f"  rpc {m.name}({cs}{req}) returns ({ss}{resp}){opt}")
        lines.append("}")
        lines.append("")
    for e in fd.enum_types_by_name.values():
        lines += enum_lines(e, "")
        lines.append("")
    for m in fd.message_types_by_name.values():
        lines += message_lines(m, package)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def module_path(api):
    """`component.arm` → viam.gen.component.arm.v1.arm_pb2 (whatever the
    file is called); `common` → viam.gen.common.v1.common_pb2;
    `app.data` → viam.gen.app.data.v1.data_pb2."""
    import glob
    import os

    package = importlib.import_module("viam.gen." + api + ".v1")
    files = [f for f in glob.glob(os.path.join(package.__path__[0], "*_pb2.py"))]
    if len(files) != 1:
        raise SystemExit(f"{api}: expected one *_pb2.py, found {files}")
    return f"viam.gen.{api}.v1.{os.path.basename(files[0])[:-3]}"


def main():
    for api in sys.argv[1:]:
        # `component.arm` → viam.gen.component.arm.v1.arm_pb2; `common` →
        # viam.gen.common.v1.common_pb2.
        module = importlib.import_module(module_path(api))
        target = ROOT / "viam" / module.DESCRIPTOR.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(proto_text(module))
        print(target.relative_to(ROOT))


if __name__ == "__main__":
    main()
