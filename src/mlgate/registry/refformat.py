"""The fields every registry read lists with ``git for-each-ref`` (no imports: a cached
``show`` needs this and nothing else of the registry)."""

FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objecttype)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:unix)",
    "%(taggerdate:iso-strict)",
    "%(contents:subject)",
    "%(contents:body)",
    "%(contents:signature)",
)
# Every field ends in NUL (git messages cannot hold one); for-each-ref ends records with "\n".
FORMAT = "".join(f"{field}%00" for field in FIELDS)
