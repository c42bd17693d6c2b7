#!/usr/bin/env python3
"""Packs Leaseq.<version>.nupkg from Leaseq.nuspec, as `dotnet pack` lays a package out.

    pack.py NUSPEC BASE_DIR OUT_DIR     prints the path of the package it wrote

Mono's nuget (2.8) refuses the metadata a package needs today (a license expression, a readme),
so the package is written here: the .nuspec as given, each <file> from BASE_DIR at its target,
and the OPC parts ([Content_Types].xml, _rels/.rels, the core properties) NuGet clients expect.
"""

from __future__ import annotations

import sys
import uuid
import xml.etree.ElementTree as ET
import zipfile
from xml.sax.saxutils import escape
from pathlib import Path

NS = {"nu": "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"}


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    nuspec, base, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    root = ET.parse(nuspec).getroot()
    metadata = root.find("nu:metadata", NS)
    assert metadata is not None, "the .nuspec has no <metadata>"

    def meta(name: str) -> str:
        element = metadata.find(f"nu:{name}", NS)
        if element is None or not element.text:
            sys.exit(f"pack.py: {nuspec.name} has no <{name}>")
        return element.text.strip()

    package_id, version = meta("id"), meta("version")
    files: list[tuple[Path, str]] = []
    for entry in root.iterfind("nu:files/nu:file", NS):
        source = base / entry.attrib["src"]
        if not source.is_file():
            sys.exit(f"pack.py: {source} is missing")
        target = entry.attrib.get("target", "").strip("/")
        files.append((source, f"{target}/{source.name}" if target else source.name))
    readme = meta("readme")
    if readme not in {name for _, name in files}:
        sys.exit(f"pack.py: the readme {readme} is not among the packed files")

    extensions = sorted({name.rsplit(".", 1)[-1] for _, name in files if "." in name} | {"nuspec"})
    content_types = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
        '<Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
        + "".join(
            f'<Default Extension="{ext}" ContentType="application/octet" />'
            for ext in extensions
            if ext not in ("rels", "psmdcp")
        )
        + "</Types>"
    )
    properties_name = f"package/services/metadata/core-properties/{uuid.uuid4().hex}.psmdcp"
    relationships = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" '
        f'Target="/{package_id}.nuspec" Id="R{uuid.uuid4().hex[:16]}" />'
        f'<Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        f'Target="/{properties_name}" Id="R{uuid.uuid4().hex[:16]}" />'
        "</Relationships>"
    )
    core_properties = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
        f"<dc:creator>{escape(meta('authors'))}</dc:creator>"
        f"<dc:description>{escape(meta('description'))}</dc:description>"
        f"<dc:identifier>{escape(package_id)}</dc:identifier><version>{escape(version)}</version>"
        f"<keywords>{escape(meta('tags'))}</keywords></coreProperties>"
    )

    out.mkdir(parents=True, exist_ok=True)
    package = out / f"{package_id}.{version}.nupkg"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", relationships)
        archive.write(nuspec, f"{package_id}.nuspec")
        for source, name in files:
            archive.write(source, name)
        archive.writestr(properties_name, core_properties)
        archive.writestr("[Content_Types].xml", content_types)
    print(package)


if __name__ == "__main__":
    main()
