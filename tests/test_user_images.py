"""Image sets a user supplies (Fruit, Stanford Cars: no public copy): labels.csv + MANIFEST.sha256, checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmc_core.data import load_image_dataset
from mmc_core.data.registry import DatasetUnavailable, DataSchemaError, get_entry, is_available

ROWS = [("a.png", "red", "apples"), ("b.png", "green", "grapes"), ("c.png", "yellow", "bananas"),
        ("d.png", "red", "grapes")]


def write_manifest(folder: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(folder.iterdir())
             if p.name != "MANIFEST.sha256"]
    (folder / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")


def fruit(root: Path, rows=ROWS, header: str = "path,color,species") -> Path:
    folder = root / "fruit"
    folder.mkdir()
    for name, *_ in rows:
        Image.fromarray(np.full((4, 4, 3), len(name), dtype=np.uint8)).save(folder / name)
    (folder / "labels.csv").write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows))
    write_manifest(folder)
    return folder


def test_a_supplied_set_loads_with_the_registry_class_order(tmp_path):
    fruit(tmp_path)
    assert is_available(get_entry("Fruit"), tmp_path)
    ds = load_image_dataset("Fruit", data_dir=tmp_path)
    assert [p.name for p in ds.paths] == ["a.png", "b.png", "c.png", "d.png"]
    assert ds.class_names["color"] == ["red", "green", "yellow"]  # the registry's order, not the file's
    assert ds.labels["color"].tolist() == [0, 1, 2, 0] and ds.labels["species"].tolist() == [0, 2, 1, 2]


def test_absent_set_says_what_to_supply(tmp_path):
    assert not is_available(get_entry("Fruit"), tmp_path)
    with pytest.raises(DatasetUnavailable, match="labels.csv.*color, species.*MANIFEST.sha256"):
        load_image_dataset("Fruit", data_dir=tmp_path)


def test_a_changed_image_is_caught(tmp_path):
    folder = fruit(tmp_path)
    (folder / "b.png").write_bytes(b"not the listed image")
    with pytest.raises(DataSchemaError, match="sha256 mismatch.*b.png"):
        load_image_dataset("Fruit", data_dir=tmp_path)


def test_labels_must_name_listed_images_and_every_clustering(tmp_path):
    folder = fruit(tmp_path, header="path,color,kind")
    with pytest.raises(DataSchemaError, match=r"lacks the column\(s\) \['species'\]"):
        load_image_dataset("Fruit", data_dir=tmp_path)
    (folder / "labels.csv").write_text("path,color,species\nz.png,red,apples\n")
    write_manifest(folder)
    with pytest.raises(DataSchemaError, match="names images not in MANIFEST.sha256: \\['z.png'\\]"):
        load_image_dataset("Fruit", data_dir=tmp_path)


def test_a_class_the_registry_does_not_list_is_refused(tmp_path):
    fruit(tmp_path, rows=ROWS + [("e.png", "blue", "apples")])
    with pytest.raises(DataSchemaError, match=r"color labels \['blue'\] are not in the registry's classes"):
        load_image_dataset("Fruit", data_dir=tmp_path)


def test_a_row_listed_twice_is_refused_naming_both_lines(tmp_path):
    folder = fruit(tmp_path)
    with open(folder / "labels.csv", "a") as labels:
        labels.write("b.png,green,grapes\n")  # a copy-paste slip: b.png would be loaded twice
    write_manifest(folder)
    with pytest.raises(DataSchemaError, match=r"labels\.csv line 6 names b\.png again \(first on line 3\)"):
        load_image_dataset("Fruit", data_dir=tmp_path)


def test_a_labels_file_with_only_its_header_is_refused(tmp_path):
    folder = fruit(tmp_path)
    (folder / "labels.csv").write_text("path,color,species\n")
    write_manifest(folder)
    with pytest.raises(DataSchemaError, match=r"fruit/labels\.csv has its header on line 1 and no row after it"):
        load_image_dataset("Fruit", data_dir=tmp_path)
