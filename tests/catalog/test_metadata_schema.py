"""MetadataSchema: the seeds' rules, the encord SDK's semantics and wire format."""

from __future__ import annotations

from typing import Any

import pytest
from encord.metadata_schema import _ClientMetadataSchema

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.errors import MetadataSchemaError


def test_seed_001_snippet_builds_the_expected_document() -> None:
    saved: list[dict[str, Any]] = []
    metadata_schema = MetadataSchema(on_save=saved.append)
    for n, ty in enumerate(["boolean", "datetime", "number", "uuid", "varchar", "text"], start=1):
        metadata_schema.add_scalar(f"metadata_{n}", data_type=ty)
    metadata_schema.add_enum("my-enum", values=["enum-value-01", "enum-value-02", "enum-value-03"])
    metadata_schema.add_embedding("my-test-active-embedding", size=512)
    metadata_schema.add_embedding("my-test-index-embedding", size=4096)
    metadata_schema.save()
    assert saved == [metadata_schema.to_document()]
    assert saved[0]["metadata_3"] == {"ty": "variant", "hint": "number"}
    assert saved[0]["my-enum"] == {
        "ty": "enum",
        "values": ["enum-value-01", "enum-value-02", "enum-value-03"],
    }
    text = str(metadata_schema)
    assert "'metadata_1': " in text and "scalar(hint=boolean)" in text and "embedding(size=4096)" in text
    # the official SDK's own model accepts our document: wire compatible
    _ClientMetadataSchema.model_validate(saved[0])


def test_aliases_case_sensitivity_and_namespacing() -> None:
    schema = MetadataSchema()
    schema.add_scalar("team.video.description", data_type="string")
    schema.add_scalar("Transcript", data_type="long_string")
    schema.add_scalar("transcript", data_type="number")
    assert schema.get_key_type("team.video.description") == "varchar"
    assert (schema.get_key_type("Transcript"), schema.get_key_type("transcript")) == ("text", "number")


@pytest.mark.parametrize("key", ["", "a/b", "$encord", "café", "   ", "keyframes", "x\ty"])
def test_invalid_keys_name_the_key_and_the_rule(key: str) -> None:
    with pytest.raises(MetadataSchemaError) as err:
        MetadataSchema().add_scalar(key, data_type="text")
    assert repr(key) in str(err.value) or "keyframes" in str(err.value)


def test_invalid_type_lists_the_allowed_set() -> None:
    with pytest.raises(MetadataSchemaError, match=r"integer.*boolean, datetime, number, uuid, varchar, text"):
        MetadataSchema().add_scalar("size", data_type="integer")
    with pytest.raises(MetadataSchemaError, match="add_enum"):
        MetadataSchema().add_scalar("e", data_type="enum")


def test_set_scalar_changes_type_but_not_of_enums() -> None:
    schema = MetadataSchema()
    schema.add_scalar("metadata_1", data_type="varchar")
    schema.set_scalar("metadata_1", data_type="number")
    assert schema.get_key_type("metadata_1") == "number"
    schema.add_enum("Fruit", values=["apple"])
    with pytest.raises(MetadataSchemaError, match="already defined as enum"):
        schema.set_scalar("Fruit", data_type="text")


def test_enums_options_only_grow() -> None:
    schema = MetadataSchema()
    schema.add_enum("Fruit", values=["pear", "apple"])
    schema.add_enum_options("Fruit", values=["fig"])
    assert schema.get_enum_options("Fruit") == ["apple", "fig", "pear"]
    with pytest.raises(MetadataSchemaError, match="already defined"):
        schema.add_enum("Fruit", values=["apple"])
    with pytest.raises(MetadataSchemaError, match="twice"):
        schema.add_enum_options("Fruit", values=["fig"])
    with pytest.raises(MetadataSchemaError, match="at least 1"):
        schema.add_enum("Empty", values=[])
    with pytest.raises(MetadataSchemaError, match="limit is 255"):
        schema.add_enum("Huge", values=[str(i) for i in range(256)])


@pytest.mark.parametrize("size", [0, 4097, -1, True, 2.5])
def test_embedding_size_range(size: Any) -> None:
    with pytest.raises(MetadataSchemaError, match="from 1 to 4096"):
        MetadataSchema().add_embedding("clip", size=size)


def test_soft_delete_restore_and_hard_delete() -> None:
    schema = MetadataSchema()
    schema.add_scalar("Fruit", data_type="varchar")
    schema.delete_key("Fruit")
    assert schema.is_key_deleted("Fruit") and schema.get_key_type("Fruit") is None
    assert "Deleted (restorable with restore_key)" in str(schema)
    with pytest.raises(MetadataSchemaError, match="already deleted"):
        schema.delete_key("Fruit")
    schema.restore_key("Fruit")
    assert schema.get_key_type("Fruit") == "varchar"
    schema.delete_key("Fruit", hard=True)
    with pytest.raises(MetadataSchemaError, match="hard deleted and cannot be restored"):
        schema.restore_key("Fruit")
    with pytest.raises(MetadataSchemaError, match="hard deleted"):
        schema.add_scalar("Fruit", data_type="varchar")
    with pytest.raises(MetadataSchemaError, match="not deleted"):
        MetadataSchema({"k": {"ty": "variant", "hint": "text"}}).restore_key("k")


def test_save_only_when_dirty() -> None:
    calls: list[dict[str, Any]] = []
    schema = MetadataSchema({"k": {"ty": "variant", "hint": "text"}}, on_save=calls.append)
    schema.save()
    assert calls == [] and not schema.dirty
    schema.add_scalar("n", data_type="number")
    assert schema.dirty
    schema.save()
    schema.save()
    assert len(calls) == 1 and not schema.dirty


def test_from_document_names_bad_options_and_accepts_sdk_shapes() -> None:
    MetadataSchema.from_document(
        {"a": {"ty": "number"}, "b": {"ty": "varchar", "max_length": 10}, "c": {"ty": "user"}}
    )
    with pytest.raises(MetadataSchemaError, match=r"schema\['x'\].size"):
        MetadataSchema.from_document({"x": {"ty": "embedding", "size": 0}})
    with pytest.raises(MetadataSchemaError, match=r"schema\['y'\].hint"):
        MetadataSchema.from_document({"y": {"ty": "variant", "hint": "integer"}})
    with pytest.raises(MetadataSchemaError, match="not a known option type"):
        MetadataSchema.from_document({"z": {"ty": "matrix"}})
