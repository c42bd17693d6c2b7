#!/usr/bin/env python3
"""Packs Leaseq.<version>.nupkg with `nuget pack`, then puts the full Leaseq.nuspec inside it.

    pack.py NUSPEC BASE_DIR OUT_DIR     prints the path of the package it wrote

Debian's nuget (2.8) validates a .nuspec against its 2013 schema and refuses the metadata NuGet
has added since (<license type="expression"> from 4.9, <readme> from 5.10, <repository>). So
nuget packs from a copy without those elements (it lays out the files and the OPC parts), and the
package's manifest is then replaced by the .nuspec as written: what nuget.org and `dotnet` read.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

NUSPEC_NS = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"
# What nuget 2.8's schema allows in <metadata> (its own error message lists them).
OLD_METADATA = {
    "id", "version", "title", "authors", "owners", "licenseUrl", "projectUrl", "iconUrl",
    "requireLicenseAcceptance", "developmentDependency", "description", "summary",
    "releaseNotes", "copyright", "language", "tags", "dependencies", "frameworkAssemblies",
    "references",
}  # fmt: skip


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    nuspec, base, out = (Path(arg).resolve() for arg in sys.argv[1:])
    ET.register_namespace("", NUSPEC_NS)
    tree = ET.parse(nuspec)
    metadata = tree.getroot().find(f"{{{NUSPEC_NS}}}metadata")
    if metadata is None:
        sys.exit(f"pack.py: {nuspec.name} has no <metadata> in the 2013 nuspec namespace")
    package_id = metadata.findtext(f"{{{NUSPEC_NS}}}id")
    version = metadata.findtext(f"{{{NUSPEC_NS}}}version")
    for child in list(metadata):
        if child.tag.split("}")[-1] not in OLD_METADATA:
            metadata.remove(child)
    metadata.attrib.pop("minClientVersion", None)
    out.mkdir(parents=True, exist_ok=True)
    package = out / f"{package_id}.{version}.nupkg"
    with tempfile.TemporaryDirectory(prefix="leaseq-pack.") as scratch:
        old_nuspec = Path(scratch) / nuspec.name
        tree.write(old_nuspec, encoding="utf-8", xml_declaration=True)
        packed = subprocess.run(
            ["nuget", "pack", str(old_nuspec), "-BasePath", str(base), "-OutputDirectory",
             scratch, "-NonInteractive", "-NoPackageAnalysis"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        made = Path(scratch) / package.name
        if packed.returncode != 0 or not made.exists():
            sys.exit(f"pack.py: nuget pack failed:\n{packed.stdout}{packed.stderr}")
        manifest = f"{package_id}.nuspec"
        with zipfile.ZipFile(made) as source, zipfile.ZipFile(package, "w") as target:
            for entry in source.infolist():
                data = nuspec.read_bytes() if entry.filename == manifest else source.read(entry)
                target.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
            if manifest not in source.namelist():
                sys.exit(f"pack.py: nuget's package has no {manifest}")
    print(package)


if __name__ == "__main__":
    shutil.which("nuget") or sys.exit("pack.py: nuget is needed: scripts/setup.sh --all")
    main()
