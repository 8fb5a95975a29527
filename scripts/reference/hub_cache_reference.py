#!/usr/bin/env python3
"""Does huggingface_hub recognise a cache that ldm4j's HfHub wrote? (Python and ldm4j users share one HF cache.)

    # a cache written by HfHub from a local Hub-layout server serving the diffusers-written tiny-sd15 folder:
    java -cp "ldm4j-engine/target/test-classes:ldm4j-engine/target/classes:ldm4j-cli/target/lib/*" \
        scripts/reference/MakeCache.java ldm4j-engine/src/test/resources/diffusers-reference/tiny-sd15 .ref/hfcache/hub
    HF_HUB_OFFLINE=1 OUT=/tmp/ref python3 scripts/reference/hub_cache_reference.py
"""
import json
import os
import traceback

from huggingface_hub import scan_cache_dir, snapshot_download, try_to_load_from_cache

OUT = os.environ.get("OUT", "/tmp/ref")
CACHE = ".ref/hfcache/hub"
REPO = "tiny-org/tiny-sd15"
report = {"errors": []}
try:
    info = scan_cache_dir(CACHE)
    report["repos"] = [{"repo_id": r.repo_id, "repo_type": r.repo_type, "nb_files": r.nb_files,
                        "size_on_disk": r.size_on_disk, "refs": {k: v.commit_hash for k, v in r.refs.items()},
                        "revisions": [v.commit_hash for v in r.revisions]} for r in info.repos]
    report["warnings"] = [str(w) for w in info.warnings]
    snapshot = snapshot_download(REPO, cache_dir=CACHE, local_files_only=True)
    report["snapshot_download"] = os.path.relpath(snapshot)
    files = sorted(os.path.relpath(os.path.join(d, f), snapshot) for d, _, fs in os.walk(snapshot) for f in fs)
    found = {f: try_to_load_from_cache(REPO, f, cache_dir=CACHE, revision="main") for f in files}
    report["try_to_load_from_cache"] = {f: (os.path.relpath(p) if isinstance(p, str) else repr(p)) for f, p in found.items()}
    report["all_found"] = all(isinstance(p, str) and os.path.isfile(p) for p in found.values())
except Exception:
    report["errors"].append(traceback.format_exc())
with open(os.path.join(OUT, "hub-cache-reference.json"), "w") as f:
    json.dump(report, f, indent=2)
print(json.dumps(report, indent=1))
