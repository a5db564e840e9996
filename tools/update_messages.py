"""Bring the translation catalogs in step with the code (`make messages`).

Every text the package marks for translation is extracted (see :func:`extract_messages`) and merged
into ``src/custseg/locale/<language>/LC_MESSAGES/custseg.po``: new texts are added untranslated,
texts no longer in the code are dropped, translations of unchanged texts are kept.
Then translate the empty entries (any PO editor will do); ``tests/test_i18n.py`` fails while one is
empty.

    python tools/update_messages.py          # update every catalog
    python tools/update_messages.py --check  # only report what is out of step (exit 1 if anything)
"""

from __future__ import annotations

import argparse
import io
import sys
import typing

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from custseg import config, i18n
from custseg.paths import PACKAGE_DIR
from custseg.sample import CATEGORIES


def label_messages() -> dict[str, tuple[str, ...]]:
    """The data labels the catalog translates (:func:`custseg.i18n.label`), by kind: the default
    tier names (and the VIP option), the NPS classes, the strategy areas and the sample company's
    product categories."""
    return {
        "tier": ("vip", *config.Tiers().names),
        "nps": ("promoter", "passive", "detractor"),
        "area": typing.get_args(config.StrategyRule.model_fields["area"].annotation),
        "category": CATEGORIES,
    }


def extract_messages() -> Catalog:
    """Every text of the package to translate: the ``_``, ``N_``, ``ngettext`` and ``pgettext``
    calls in its modules and the data labels of :func:`label_messages`, as a Babel catalog
    (the template merged into each language's .po)."""
    template = Catalog(project="custseg", msgid_bugs_address="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")], comment_tags=("Translators:",)
    ):
        template.add(message, locations=[(f"custseg/{filename}", lineno)], auto_comments=comments, context=context)
    for kind, values in label_messages().items():
        for value in values:
            template.add(value, context=f"label:{kind}")
    return template


def _key(message) -> tuple[str, str]:
    ident = message.id[0] if isinstance(message.id, tuple) else message.id
    return (message.context or "", ident)


def update(language: str, template: Catalog, *, check: bool) -> list[str]:
    """Merge `template` into the catalog of `language`; returns the problems found (for --check)."""
    path = i18n.catalog_path(language)
    if path.is_file():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
    else:
        catalog = Catalog(locale=language, fuzzy=False)
    catalog.project, catalog.version, catalog.msgid_bugs_address = "custseg", "", "the custseg issue tracker"
    catalog.copyright_holder, catalog.last_translator = "the custseg authors", "the custseg authors"
    catalog.language_team = "custseg"
    catalog.header_comment = (
        f"# Texts of custseg's reports in {i18n.NATIVE_NAMES.get(language, language)} ({language}).\n"
        "# Kept in step with the code by `make messages` (tools/update_messages.py): translate the\n"
        "# empty entries; keep every {placeholder} of the English text."
    )
    before = {_key(m) for m in catalog if m.id}
    wanted = {_key(m) for m in template if m.id}
    problems = [f"{language}: new text {ident!r}" + (f" ({ctx})" if ctx else "")
                for ctx, ident in sorted(wanted - before)]
    problems += [f"{language}: text no longer in the code {ident!r}" for ctx, ident in sorted(before - wanted)]
    problems += [f"{language}: untranslated {_key(m)[1]!r}"
                 for m in catalog if m.id and _key(m) in wanted and not _translated(m)]
    if check:
        return problems
    # No fuzzy matching: a guessed translation of a changed text is worse than an empty one.
    created = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    # The dates stay those of the file's creation (update() would take the template's, made
    # now), so that the file changes only with its texts.
    catalog.creation_date = catalog.revision_date = created
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=True, omit_header=False, include_previous=False,
             include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return problems


def _translated(message) -> bool:
    string = message.string
    return all(string) if isinstance(string, tuple) else bool(string)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report what is out of step, change nothing")
    args = parser.parse_args(argv)
    template = extract_messages()
    problems = []
    for language in i18n.LANGUAGES[1:]:
        problems += update(language, template, check=args.check)
    for problem in problems:
        print(problem)
    print(f"{len([m for m in template if m.id])} texts in the code; {len(problems)} to do")
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
