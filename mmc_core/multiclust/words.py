"""The words a personalized multiple-clustering method is given for each (image set, concept): a prompt template with
the placeholder "*", the concept word, and the candidate words (an LLM's list in the papers), as data.

Multi-MaP's public code (github.com/Alexander-Yao/Multi-MaP, main.py at commit MULTIMAP_COMMIT) holds the templates of
Fruit, Card and CMUface and the candidate lists of Fruit (species, color) and CMUface (identity, emotion, glasses, and
one for pose that names facial expressions, see its entry); its Card slots hold the templates again instead of word
lists. The concept word is the name of the code's data folder (dataset/<set>/<concept>/), which its concept-level
constraint encodes. Everything else (the Card, CIFAR-10 and Stanford-Cars lists, the CMUface pose list, the CIFAR-10
and Stanford-Cars templates) was never published and is ours: an LLM-style list holding the concept's true class names
(as natural words: CLASS_WORDS) plus distractors of the same kind, at least twice as many words as classes, in the
code's template style "<Object> with a <concept> of *". `source` says which is which.
"""

from __future__ import annotations

from typing import Sequence

from dataclasses import dataclass

from ..data.registry import canonical_name, get_entry

PLACEHOLDER = "*"
MULTIMAP_CODE = "Multi-MaP code"
OURS = "ours"
MULTIMAP_COMMIT = "f40ba0d02f70fb2bbd0dc5da7f7df2149ac75360"  # main.py: templates, candidate lists, concept folders


@dataclass(frozen=True)
class WordList:
    """The template, concept word and candidate words of one (image set, concept), with where each came from.
    `published_unused`: a list the Multi-MaP code gives for this concept that `words` replaces (`note` says why)."""

    dataset: str
    concept: str
    template: str
    concept_word: str
    words: tuple[str, ...]
    source: str
    template_source: str
    published_unused: tuple[str, ...] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.template.split().count(PLACEHOLDER) != 1:
            raise ValueError(f"{self.dataset}@{self.concept}: the template {self.template!r} must hold "
                             f"{PLACEHOLDER!r} exactly once, as a word of its own.")
        if len(set(self.words)) != len(self.words):
            raise ValueError(f"{self.dataset}@{self.concept}: the candidate words repeat a word.")

    def prompts(self, words: tuple[str, ...] | list[str]) -> list[str]:
        """The template with each word in place of the placeholder."""
        return [fill(self.template, word) for word in words]


def fill(template: str, word: str) -> str:
    """`template` with `word` in place of its placeholder word."""
    return " ".join(word if part == PLACEHOLDER else part for part in template.split())


_FRUIT_SPECIES = ("apples", "oranges", "bananas", "strawberries", "grapes", "raspberries", "blueberries",
                  "cherries", "pears", "plums", "peaches", "nectarines", "pineapple", "kiwi", "watermelon",
                  "cantaloupe", "apricots")
_CARD_ORDER = ("ace", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "jack", "queen", "king",
               "joker", "one", "zero", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "twenty", "fifty",
               "hundred", "dozen", "half")

WORD_LISTS: dict[tuple[str, str], WordList] = {(w.dataset, w.concept): w for w in (
    WordList("Fruit", "species", "Fruit with a species of *", "species", _FRUIT_SPECIES, MULTIMAP_CODE, MULTIMAP_CODE),
    WordList("Fruit", "color", "Fruit with a color of *", "color",
             ("red", "yellow", "green", "orange", "purple", "blue"), MULTIMAP_CODE, MULTIMAP_CODE),
    WordList("CMUface", "identity", "Face with identity of *", "identity",
             ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), MULTIMAP_CODE, MULTIMAP_CODE,
             note="digits, ten of them for the data's 20 people: the list as published"),
    WordList("CMUface", "emotion", "Face with emotion of *", "emotion",
             ("happiness", "sadness", "anger", "surprise", "fear", "disgust", "contempt"), MULTIMAP_CODE, MULTIMAP_CODE,
             note="as published: no word for the 'neutral' class"),
    WordList("CMUface", "glasses", "Face with glass of *", "glass", ("positive", "fashionable"),
             MULTIMAP_CODE, MULTIMAP_CODE, note="as published: neither word names a class (open / sunglasses)"),
    WordList("CMUface", "pose", "Face with pose of *", "pose",
             ("left", "right", "straight", "up", "down", "frontal", "profile", "tilted", "sideways", "upward",
              "downward", "turned"), OURS, MULTIMAP_CODE,
             published_unused=("smiling", "frowning", "neutral expression", "laughing", "raised eyebrows", "squinting",
                               "pouting", "wide-eyed", "nodding", "tilting head"),
             note="the code's pose slot lists facial expressions (apparently a slip); ours names head poses"),
    WordList("Card", "order", "Card with number of *", "number", _CARD_ORDER, OURS, MULTIMAP_CODE,
             note="the code's word-list slot holds the template again"),
    WordList("Card", "suits", "Card with suits of *", "suits",
             ("clubs", "diamonds", "hearts", "spades", "stars", "moons", "crowns", "shields", "coins", "cups",
              "swords", "wands", "bells", "acorns", "leaves", "roses"), OURS, MULTIMAP_CODE,
             note="the code's word-list slot holds the template again"),
    WordList("CIFAR-10", "type", "Photo with a type of *", "type",
             ("transportation", "animal", "plant", "food", "building", "person", "furniture", "tool", "electronics",
              "clothing", "landscape", "toy"), OURS, OURS),
    WordList("CIFAR-10", "environment", "Photo with an environment of *", "environment",
             ("land", "air", "water", "sky", "sea", "forest", "desert", "mountain", "city", "farm", "indoors", "snow"),
             OURS, OURS),
    WordList("Stanford-Cars", "color", "Car with a color of *", "color",
             ("red", "blue", "black", "white", "silver", "gray", "green", "yellow", "orange", "brown", "gold",
              "purple"), OURS, OURS, note="the true colour classes are not public"),
    WordList("Stanford-Cars", "type", "Car with a type of *", "type",
             ("sedan", "SUV", "coupe", "convertible", "hatchback", "pickup truck", "minivan", "van", "wagon",
              "sports car", "crossover", "limousine"), OURS, OURS, note="the true type classes are not public"),
)}

# Registry class codes that a prompt needs as natural words (others are used as they are): CMUface's "eyes" field says
# open (no sunglasses) or sunglasses.
CLASS_WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("CMUface", "glasses"): {"open": "open eyes"},
}


def word_list(dataset: str, concept: str) -> WordList:
    """The words of (dataset, concept); a clear error naming the known pairs otherwise."""
    key = (canonical_name(dataset), concept)
    if key not in WORD_LISTS:
        known = ", ".join(f"{d}@{c}" for d, c in WORD_LISTS)
        raise KeyError(f"no word list for {key[0]}@{concept}; known: {known}. Add a WordList to "
                       f"mmc_core/multiclust/words.py.")
    return WORD_LISTS[key]


def class_words(dataset: str, concept: str, classes: Sequence[str] | None = None) -> tuple[str, ...]:
    """The concept's true class names, as the words a prompt holds (CLASS_WORDS applied): `classes` (the loaded image
    set's, e.g. a user-supplied set whose classes the registry does not list), else the registry's, in order."""
    name = canonical_name(dataset)
    clustering = get_entry(name).clusterings.get(concept)
    if classes is None and (clustering is None or not clustering.classes):
        raise ValueError(f"the registry lists no classes for {name}@{concept} (data/registry.yaml, clusterings).")
    rename = CLASS_WORDS.get((name, concept), {})
    return tuple(rename.get(c, c) for c in (classes if classes is not None else clustering.classes))
