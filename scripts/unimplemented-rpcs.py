#!/usr/bin/env python3
# Prints Swift methods answering Unimplemented (through unimplementedRPC) for every method of a
# generated SimpleServiceProtocol not listed as implemented; the body of the *+Unimplemented.swift
# extensions in Sources/InstanceManagerServer/Services. Usage:
#   scripts/unimplemented-rpcs.py Sources/InstanceManagerAPI/Generated/spdk.grpc.swift Spdkrpc_SPDKService replicaCreate,replicaGet,...
import re, sys
path, protocol_owner, implemented = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
src = open(path).read()
start = src.index('public protocol SimpleServiceProtocol: %s.ServiceProtocol' % protocol_owner)
end = src.index('\n}\n', start)
block = src[start:end]
out = []
for m in re.finditer(r'func (\w+)\(\n(.*?)\) async throws( -> ([\w.]+))?', block, re.S):
    name, params, ret = m.group(1), m.group(2), m.group(4)
    if name in implemented: continue
    ps = [p.strip().rstrip(',') for p in params.strip().split('\n')]
    ps = [p.replace('GRPCCore.', '').replace('SwiftProtobuf.', '') for p in ps]
    sig = ', '.join(ps)
    r = (' -> ' + ret.replace('SwiftProtobuf.', '')) if ret else ''
    out.append('    public func %s(%s) async throws%s {\n        throw unimplementedRPC(context)\n    }\n' % (name, sig, r))
print('\n'.join(out))
