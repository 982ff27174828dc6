"""Bundles are read as hostile: zip bombs capped, entries hashed in chunks, bad names refused
(issue 11, items 5 and 6)."""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile

import pytest

from airflow_provider_tealium.api import bundles
from airflow_provider_tealium.api.bundles import BundleLimits, TealiumBundleVerificationError, verify_bundle

MiB = 1024 * 1024


def make_zip(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``entries`` in this order, repeated names allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name: that is the point
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries:
                archive.writestr(
                    zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED
                )
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


GOOD = b"/* the real utag.js */"
BAD = b"/* injected */"


# -- item 6: duplicates, absolute and '..' names --------------------------------------------------------


def test_a_repeated_entry_never_verifies_whichever_copy_is_good() -> None:
    data = make_zip([("utag.js", BAD), ("utag.js", GOOD), ("utag.1.js", b"tag")])
    result = verify_bundle(data, {"utag.js": sha(GOOD), "utag.1.js": sha(b"tag"), "bundle.zip": sha(data)})
    assert not result.ok() and result.duplicates == ["utag.js"]
    assert result.problems() == "entries repeated in the zip: utag.js"
    assert "utag.js" not in result.verified and result.verified == ["bundle.zip", "utag.1.js"]


@pytest.mark.parametrize(
    "name",
    ["/etc/utag.js", "../utag.js", "a/../../utag.js", "\\\\server\\utag.js", "C:utag.js", "x\\..\\utag.js"],
)
def test_absolute_and_climbing_names_are_refused(name: str) -> None:
    data = make_zip([(name, GOOD), ("utag.js", GOOD)])
    result = verify_bundle(data, {name: sha(GOOD), "utag.js": sha(GOOD)})
    assert not result.ok(allow_unlisted=True) and result.unsafe == [name]
    assert "absolute or '..' name" in result.problems()
    assert result.missing == []  # refused, not reported missing as well


def test_ordinary_names_are_fine() -> None:
    names = ["utag.js", "utag.1.js", "sub/dir/utag.2.js", "..utag.js", "a..b.js"]
    data = make_zip([(n, GOOD) for n in names])
    assert verify_bundle(data, {n: sha(GOOD) for n in names}).ok()


# -- item 5: zip bombs ---------------------------------------------------------------------------------


def test_a_highly_compressed_entry_is_refused_before_it_is_decompressed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = make_zip([("utag.js", bytes(4 * MiB))])  # 4 MiB of zeros in ~4 KB: about 1000:1
    assert len(bomb) < 10_000

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(
        TealiumBundleVerificationError, match=r"entry 'utag.js' is compressed \d+:1 .*zip bomb"
    ):
        verify_bundle(bomb, {"utag.js": "0" * 64})


def test_entry_total_count_and_download_caps() -> None:
    data = make_zip([("a.js", b"x" * 2000), ("b.js", b"y" * 2000)])
    with pytest.raises(TealiumBundleVerificationError, match=r"entry 'a.js' expands to 2000 bytes"):
        verify_bundle(data, {}, BundleLimits(max_entry_bytes=1000))
    with pytest.raises(TealiumBundleVerificationError, match="expand to more than 3000 bytes"):
        verify_bundle(data, {}, BundleLimits(max_total_bytes=3000))
    with pytest.raises(TealiumBundleVerificationError, match="2 entries"):
        verify_bundle(data, {}, BundleLimits(max_entries=1))
    with pytest.raises(TealiumBundleVerificationError, match=rf"the zip is {len(data)} bytes"):
        verify_bundle(data, {}, BundleLimits(max_download_bytes=100))
    with pytest.raises(TealiumBundleVerificationError, match="nothing was written"):
        verify_bundle(data, {}, BundleLimits(max_entries=1))


def test_entries_are_hashed_in_chunks_never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    content = bytes(range(256)) * 4096  # 1 MiB that does not compress: under every cap
    data = make_zip([("utag.js", content)])

    def whole(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("an entry was read whole")

    monkeypatch.setattr(zipfile.ZipFile, "read", whole)
    reads: list[int] = []
    real_open = zipfile.ZipFile.open

    def tracking_open(self: zipfile.ZipFile, *args: object, **kwargs: object) -> object:
        entry = real_open(self, *args, **kwargs)  # type: ignore[arg-type]
        real_read = entry.read

        def read(n: int = -1) -> bytes:
            reads.append(n)
            return real_read(n)

        entry.read = read  # type: ignore[method-assign]
        return entry

    monkeypatch.setattr(zipfile.ZipFile, "open", tracking_open)
    assert verify_bundle(data, {"utag.js": sha(content)}).ok()
    assert reads and all(0 < n <= 64 * 1024 for n in reads)


def test_the_streamed_count_stops_an_entry_whatever_its_directory_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A directory can lie; the streamed count is the last line.
    monkeypatch.setattr(bundles, "_check_declared", lambda infos, limits: None)
    data = make_zip([("utag.js", bytes(3 * MiB))])
    with pytest.raises(TealiumBundleVerificationError, match="expands beyond 1048576 bytes"):
        verify_bundle(data, {}, BundleLimits(max_entry_bytes=MiB))


def test_a_real_sized_bundle_passes_the_default_caps() -> None:
    # A large profile: utag.js of 2 MiB of minified-like JavaScript and 300 tag files.
    rng = hashlib.sha256()
    blobs = []
    for i in range(300):
        rng.update(str(i).encode())
        blobs.append((f"utag.{i}.js", (f"/* tag {i} */ var t{i}=" + rng.hexdigest() * 40 + ";").encode()))
    utag = b"".join(b"function f%d(a){return a+%d};" % (i, i) for i in range(70_000))
    entries = [("utag.js", utag), *blobs]
    data = make_zip(entries)
    assert verify_bundle(data, {n: sha(c) for n, c in entries}).ok()
