"""The Multi-DProxy baselines (CLIP_GPT, CLIP_label, K-means on CLIP features, Multi-MaP), their word lists and the
image-set task builder.

The planted task: 16-d features, concept A (3 classes, weak) and concept B (3 classes, strong) on orthogonal
directions, so plain K-means finds B; A's candidate words are its class directions plus distractor directions no
class owns (listed in a shuffled order); the prompt encoder is a fixed linear map from a 16-d token space, the identity
except that it reaches the B directions only `reach` times (the template "... with a <A> of *" cannot say B).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

from mmc_core import paths
from mmc_core.data.registry import get_entry, is_available
from mmc_core.multiclust import ConceptTask, kmeans_scores, partition_scores
from mmc_core.multiclust.multimap import MultiMaP
from mmc_core.multiclust.words import MULTIMAP_CODE, OURS, WORD_LISTS, WordList, class_words, word_list
from mmc_core.multiclust.zeroshot import ClipKMeans, ClipZeroShot, unit_rows

DIM, PER_CELL = 16, 10
E = np.eye(DIM)
A_DIRS, B_DIRS, DISTRACTOR_DIRS, CONCEPT_DIR = [0, 1, 2], [3, 4, 5], [6, 7, 8], 12
CANDIDATES = ("x0", "a2", "x1", "a0", "x2", "a1")  # distractors x*, A's classes a*, not in class order


def planted_task(reach: float = 0.0, seed: int = 0, distractor_images: int = 0) -> tuple[ConceptTask, np.ndarray]:
    """The planted task asking for A (module docstring) and B's labels; the first `distractor_images` images carry
    distractor x0's direction instead of their A direction."""
    rng = np.random.default_rng(seed)
    y_a, y_b = (np.repeat(g.ravel(), PER_CELL) for g in np.meshgrid(np.arange(3), np.arange(3)))
    a_part = E[A_DIRS][y_a]
    a_part[:distractor_images] = E[DISTRACTOR_DIRS[0]]
    X = 0.6 * a_part + 1.0 * E[B_DIRS][y_b] + 0.3 * rng.standard_normal((len(y_a), DIM)) / np.sqrt(DIM)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    P = np.eye(DIM)
    P[B_DIRS, B_DIRS] = reach
    linear = torch.as_tensor(P, dtype=torch.float32)
    tokens = np.array([E[(DISTRACTOR_DIRS if w[0] == "x" else A_DIRS)[int(w[1])]] for w in CANDIDATES])

    def prompt_features(T: np.ndarray) -> np.ndarray:
        F = T @ P
        return (F / np.linalg.norm(F, axis=1, keepdims=True)).astype(np.float32)

    task = ConceptTask(
        name="Planted@A", concept="A", image_features=X.astype(np.float32), labels=y_a, n_clusters=3,
        candidates=CANDIDATES, candidate_features=prompt_features(tokens), class_names=("a0", "a1", "a2"),
        class_features=prompt_features(E[A_DIRS]), encoder_id="synthetic",
        prompt_encoder=lambda w, path="full": w @ linear, token_init=tokens.mean(axis=0).astype(np.float32), candidate_tokens=tokens.astype(np.float32),
        concept_token=E[CONCEPT_DIR].astype(np.float32))
    return task, y_b


def nmi(features: np.ndarray, labels: np.ndarray) -> float:
    return kmeans_scores(features, labels, 3)["nmi"]


# ------------------------------------------------------------------------------------------------ zero-shot, K-means


def test_clip_label_recovers_the_planted_partition():
    task, _ = planted_task()
    model = ClipZeroShot(words="classes").fit_task(task)
    assert model.reported_as == "CLIP_label" and model.vocabulary_ == task.class_names
    np.testing.assert_array_equal(model.partition_, task.labels)  # classes listed in label order
    assert partition_scores(task.labels, model.partition_)["nmi"] == pytest.approx(1.0)


def test_clip_gpt_assigns_each_image_to_its_nearest_candidate_distractors_included():
    task, _ = planted_task(distractor_images=5)
    model = ClipZeroShot(words="candidates").fit_task(task)
    expected = np.array([CANDIDATES.index(f"a{y}") for y in task.labels])
    expected[:5] = CANDIDATES.index("x0")
    assert model.reported_as == "CLIP_GPT" and model.vocabulary_ == CANDIDATES
    np.testing.assert_array_equal(model.partition_, expected)


def test_clip_kmeans_clusters_the_image_features_which_prefer_the_stronger_concept():
    task, y_b = planted_task()
    model = ClipKMeans().fit_task(task)
    np.testing.assert_array_equal(model.features_, task.image_features)
    assert nmi(model.features_, y_b) > 0.9 > 0.1 > nmi(model.features_, task.labels)


def test_a_bad_zero_shot_vocabulary_is_named():
    task, _ = planted_task()
    with pytest.raises(ValueError, match="words='labels' is invalid; it must be one of 'candidates', 'classes'"):
        ClipZeroShot(words="labels").fit_task(task)


# ------------------------------------------------------------------------------------------------ Multi-MaP


def test_multimap_finds_the_asked_concept_that_plain_kmeans_misses():
    """Every proxy starts at the same token, so any structure in the prompts comes from training on its own image."""
    task, y_b = planted_task(reach=0.0)
    model = MultiMaP(3, init="mean", device="cpu").fit_task(task)
    assert nmi(task.image_features, y_b) > 0.9  # the premise: plain K-means finds B
    assert nmi(model.features_, task.labels) > 0.9 > 0.1 > nmi(model.features_, y_b)
    np.testing.assert_allclose(np.linalg.norm(model.features_, axis=1), 1, atol=1e-5)


def test_multimap_alignment_alone_pulls_each_prompt_towards_its_own_image():
    task, _ = planted_task(reach=0.0)
    model = MultiMaP(3, init="mean", disable=["concept", "reference"], device="cpu").fit_task(task)
    cosines = np.sum(model.features_ * task.image_features, axis=1)
    reachable = np.linalg.norm(np.delete(task.image_features, B_DIRS, axis=1), axis=1)  # best cosine without B
    assert np.all(cosines > 0.9 * reachable)
    assert model.history_["alignment"].iloc[-1] < np.mean(1 - reachable) + 0.01  # the floor the template allows
    assert nmi(model.features_, task.labels) > 0.9


def test_multimap_reference_words_are_the_nearest_candidates_and_pull_their_proxies():
    task, _ = planted_task(reach=1.0)
    model = MultiMaP(3, init="mean", disable=["alignment", "concept"], device="cpu").fit_task(task)
    assert [CANDIDATES[i] for i in model.reference_] == [f"a{y}" for y in task.labels]
    proxies = model.model_.proxies.weight.detach().numpy()  # they start equidistant from every candidate
    distances = np.linalg.norm(proxies[:, None] - task.candidate_tokens[None], axis=2)
    np.testing.assert_array_equal(distances.argmin(axis=1), model.reference_)


def test_multimap_needs_the_text_encoder_side_of_the_task():
    task, _ = planted_task()
    bare = ConceptTask(name=task.name, concept=task.concept, image_features=task.image_features, labels=task.labels,
                       n_clusters=3, candidates=task.candidates, candidate_features=task.candidate_features,
                       class_names=task.class_names, class_features=task.class_features, encoder_id="synthetic")
    with pytest.raises(ValueError, match="has no prompt_encoder, candidate_tokens, concept_token. Build the task"):
        MultiMaP(3, device="cpu").fit_task(bare)


def test_multimap_asks_the_task_for_the_authors_prompt_path_by_default():
    task, _ = planted_task()
    asked = []

    def encoder(tokens: torch.Tensor, path: str = "full") -> torch.Tensor:
        asked.append(path)
        return task.prompt_encoder(tokens, path)

    spy = dataclasses.replace(task, prompt_encoder=encoder)
    MultiMaP(3, epochs=1, device="cpu").fit_task(spy)
    assert set(asked) == {"authors"}
    asked.clear()
    MultiMaP(3, epochs=1, prompt_encoder="full", device="cpu").fit_task(spy)
    assert set(asked) == {"full"}
    with pytest.raises(ValueError, match="prompt_encoder"):
        MultiMaP(3, prompt_encoder="openai", device="cpu").fit_task(spy)


def test_the_prompt_path_enters_the_identity_of_real_image_runs_only():
    """Records of real-image runs made under the former default (CLIP's full path) are not read back as the authors'
    path; planted runs, where the prompt encoder is the identity, keep the ids of the shipped records."""
    from mmc_core.encoders.clip import PROMPT_PATHS
    from mmc_core.multiclust.multimap import PROMPT_ENCODERS
    from mmc_core.multiclust.runs import ConceptRun

    assert set(PROMPT_ENCODERS) == set(PROMPT_PATHS)
    real = ConceptRun("multimap", "CMUface@pose", 1, {"epochs": 5}, encoder="ViT-B-32-quickgelu@40d365715913")
    assert real.config["params"] == {"epochs": 5, "prompt_encoder": "authors"}
    full = ConceptRun("multimap", "CMUface@pose", 1, {"epochs": 5, "prompt_encoder": "full"}, encoder=real.encoder)
    assert full.config_id != real.config_id
    assert ConceptRun("multimap", "Planted1@colour", 1).config["params"] == {}
    assert ConceptRun("multimap", "Planted1@colour", 1).config_id == "9442ff0ff12c"  # as shipped
    assert ConceptRun("multidproxy", "CMUface@pose", 1, {}, encoder=real.encoder).config["params"] == {}


# ------------------------------------------------------------------------------------------------ word lists


def test_every_word_list_belongs_to_a_registered_concept_and_ours_hold_its_classes():
    for (dataset, concept), words in WORD_LISTS.items():
        assert concept in get_entry(dataset).clusterings, f"{dataset}@{concept}"
        assert words.source in (MULTIMAP_CODE, OURS) and words.template_source in (MULTIMAP_CODE, OURS)
        if words.source == OURS and get_entry(dataset).clusterings[concept].classes:
            classes = class_words(dataset, concept)
            assert set(classes) <= set(words.words), f"{dataset}@{concept}"
            assert len(words.words) >= 2 * len(classes), f"{dataset}@{concept}"


def test_only_the_lists_in_the_multimap_code_are_flagged_as_published():
    published = {key for key, words in WORD_LISTS.items() if words.source == MULTIMAP_CODE}
    assert published == {("Fruit", "species"), ("Fruit", "color"), ("CMUface", "identity"), ("CMUface", "emotion"),
                         ("CMUface", "glasses")}
    assert word_list("fruit", "color").words == ("red", "yellow", "green", "orange", "purple", "blue")
    assert word_list("CMUface", "glasses").prompts(["positive"]) == ["Face with glass of positive"]
    assert class_words("CMUface", "glasses") == ("open eyes", "sunglasses")


def test_a_template_without_exactly_one_placeholder_is_refused():
    with pytest.raises(ValueError, match="must hold '\\*' exactly once"):
        WordList("Card", "suits", "a * of * card", "suits", ("clubs",), OURS, OURS)


# ------------------------------------------------------------------------------------------------ image sets


def test_build_task_on_cmuface_pose_with_the_tiny_random_encoder(tmp_path, monkeypatch):
    """Integration with mmc_core.encoders: shapes, a prompt encoder the gradient flows through, one Multi-MaP epoch."""
    if not is_available(get_entry("CMUface"), paths.data_dir()):
        pytest.skip(f"CMUface is not staged in {paths.data_dir()} (make data)")
    from mmc_core.encoders import load_encoder
    from mmc_core.multiclust.images import build_task

    monkeypatch.setenv("MMC_RESULTS_DIR", str(tmp_path / "results"))  # a fresh feature cache: encoded here
    encoder = load_encoder("mmc-tiny-clip", "none")
    started = time.perf_counter()
    task = build_task("CMUface", "pose", encoder)
    print(f"build_task(CMUface, pose), tiny random CLIP, cold cache: {time.perf_counter() - started:.1f} s")
    n, K, d, width = 624, len(word_list("CMUface", "pose").words), encoder.embed_dim, encoder.token_width
    assert task.name == "CMUface@pose" and task.encoder_id == encoder.id and task.n_clusters == 4
    assert task.image_features.shape == (n, d) and task.labels.shape == (n,) and set(task.labels) == {0, 1, 2, 3}
    assert task.candidate_features.shape == (K, d) and task.class_features.shape == (4, d)
    assert task.class_names == ("left", "right", "straight", "up")
    assert set(task.other_labels) == {"identity", "emotion", "glasses"}
    assert task.candidate_tokens.shape == (K, width) and task.concept_token.shape == task.token_init.shape == (width,)
    proxies = torch.as_tensor(task.candidate_tokens[:3], dtype=torch.float32).requires_grad_(True)
    features = task.prompt_encoder(proxies)
    features.sum().backward()
    assert features.shape == (3, d) and proxies.grad.abs().sum() > 0
    np.testing.assert_allclose(unit_rows(features.detach().numpy()), task.candidate_features[:3], atol=1e-5)
    model = MultiMaP(4, epochs=1, device="cpu").fit_task(task)
    assert model.features_.shape == (n, d) and len(model.history_) == 1

