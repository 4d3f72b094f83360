"""StorageClass fragments: the class lands under the chart's own keys, and nothing at all when unset."""

from __future__ import annotations

from components.values.storage_class import claim_template, storage_class_at


def test_claim_template_names_the_class_only_when_set() -> None:
    assert claim_template(8, None) == {
        "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}}}
    }
    assert claim_template(8, "gp3")["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3"


def test_storage_class_at_builds_each_path() -> None:
    assert storage_class_at("gp3", "a.persistence.storageClass", "a.other.storageClassName", "top") == {
        "a": {"persistence": {"storageClass": "gp3"}, "other": {"storageClassName": "gp3"}},
        "top": "gp3",
    }
    assert storage_class_at(None, "a.persistence.storageClass") == {}
