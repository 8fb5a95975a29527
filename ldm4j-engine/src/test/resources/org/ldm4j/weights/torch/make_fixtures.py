"""Writes the checked-in PyTorch-checkpoint fixtures of TorchCheckpointTest (see README.md). Needs only CPython 3
(no torch): run `python3 make_fixtures.py` in this folder. Output is deterministic (fixed zip timestamps)."""
import collections, io, pickle, pickletools, struct, sys, types, zipfile

def torch_zip(name, pickle_bytes, storages=()):
    """The torch.save zip layout: archive/data.pkl, archive/byteorder, archive/data/<key>, archive/version; STORED."""
    pickletools.dis(pickle_bytes, out=io.StringIO())          # the stream must be a valid pickle
    with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as z:
        def put(entry, data):
            info = zipfile.ZipInfo("archive/" + entry, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
        put("data.pkl", pickle_bytes)
        put("byteorder", b"little")
        for key, data in storages:
            put("data/" + key, data)
        put("version", b"3\n")

# 1. Hand-crafted: GLOBAL os.system + REDUCE (protocol 2), what `pickle.dumps` of an object whose __reduce__ returns
#    (os.system, ("touch PWNED",)) looks like (CPython itself would spell the module 'posix').
torch_zip("os_system.pt",
          b"\x80\x02" b"cos\nsystem\n" b"q\x00" b"X\x0b\x00\x00\x00touch PWNED" b"q\x01" b"\x85" b"q\x02" b"R" b"q\x03" b".")

# 2. Hand-crafted: builtins.exec through STACK_GLOBAL (protocol 4 with FRAME and MEMOIZE), inside a dict value
#    after an innocent key, so a reader must refuse it while building an otherwise plain dict.
CODE = b"open('PWNED', 'w').write('x')"
body = (b"}\x94" b"(" b"\x8c\x05epoch\x94" b"K\x03"
        b"\x8c\x05hooks\x94" b"\x8c\x08builtins\x94\x8c\x04exec\x94\x93\x94"
        b"\x8c" + bytes([len(CODE)]) + CODE + b"\x94\x85\x94R\x94" b"u" b".")
torch_zip("builtins_exec.pt", b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body)

# 3. A state dict pickled by CPython's own Pickler the way torch.save does it (persistent ids for storages,
#    torch._utils._rebuild_tensor_v2 / _rebuild_parameter reduce calls, OrderedDict with a _metadata attribute),
#    using stand-in modules named like torch's so that no torch install is needed.
torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
torch_mod._utils = utils_mod
class FloatStorage: pass
class HalfStorage: pass
FloatStorage.__module__ = HalfStorage.__module__ = "torch"
torch_mod.FloatStorage, torch_mod.HalfStorage = FloatStorage, HalfStorage
def _rebuild_tensor_v2(*a): pass
def _rebuild_parameter(*a): pass
_rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"
utils_mod._rebuild_tensor_v2, utils_mod._rebuild_parameter = _rebuild_tensor_v2, _rebuild_parameter

class Storage:
    def __init__(self, key, kind, numel): self.key, self.kind, self.numel = key, kind, numel
class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.args = (storage, offset, size, stride)
        self.parameter = parameter
    def __reduce_ex__(self, protocol):
        s, off, size, stride = self.args
        t = (_rebuild_tensor_v2, (s, off, size, stride, False, collections.OrderedDict()))
        if not self.parameter:
            return t
        return (_rebuild_parameter, (Plain(t), True, collections.OrderedDict()))
class Plain:
    def __init__(self, r): self.r = r
    def __reduce_ex__(self, protocol): return self.r
class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.kind, obj.key, "cpu", obj.numel)
        return None

f32 = Storage("0", FloatStorage, 6)          # 0..5 as float32
f16 = Storage("1", HalfStorage, 4)           # 0..3 as float16
sd = collections.OrderedDict()
sd["weight"] = Tensor(f32, 0, (2, 3), (3, 1), parameter=True)   # [[0,1,2],[3,4,5]]
sd["weight_t"] = Tensor(f32, 0, (3, 2), (1, 3))                 # its transpose, sharing the storage
sd["tail"] = Tensor(f32, 2, (3,), (1,))                         # [2,3,4]
sd["half"] = Tensor(f16, 0, (4,), (1,))                         # [0,1,2,3]
sd._metadata = collections.OrderedDict([("", {"version": 1})])
buf = io.BytesIO()
TorchPickler(buf, protocol=2).dump({"epoch": 3, "global_step": 100, "state_dict": sd})
torch_zip("cpython_state_dict.pt", buf.getvalue(),
          [("0", struct.pack("<6f", *range(6))), ("1", struct.pack("<4e", *range(4)))])
print("wrote os_system.pt, builtins_exec.pt, cpython_state_dict.pt")
