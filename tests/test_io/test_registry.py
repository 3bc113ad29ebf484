"""echoseg.io.registry: one reader per suffix, one writer per output kind, the media types."""
import numpy as np
import pytest

from echoseg.io import EchoDataError, registry
from echoseg.io.dicom import DicomReader
from echoseg.io.image import ImageReader
from echoseg.io.video import VideoReader
from echoseg.io.volume import VolumeReader

#: every suffix echoseg reads, written out here (not taken from the registry)
EXPECTED = {
    VideoReader: ('.avi', '.mp4', '.mov', '.mkv', '.m4v', '.mpg', '.mpeg', '.wmv'),
    VolumeReader: ('.nii', '.nii.gz', '.mhd', '.mha', '.nrrd'),
    DicomReader: ('.dcm', '.dicom'),
    ImageReader: ('.png', '.bmp', '.jpg', '.jpeg', '.tif', '.tiff'),
}


def _frames(n=4, h=20, w=28):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([np.clip(xx * 4 + yy * 3 + 15 * i, 0, 255) for i in range(n)]).astype(
        np.uint8)


@pytest.mark.parametrize('cls,suffix', [(c, s) for c, ss in EXPECTED.items() for s in ss])
def test_reader_for_each_suffix(cls, suffix, tmp_path):
    for name in ('clip' + suffix, 'CLIP' + suffix.upper()):   # suffixes in any case
        assert type(registry.reader_for(tmp_path / name)) is cls, name


def test_every_reader_suffix_is_known():
    assert {s for r in registry.READERS for s in r.suffixes} == \
        {s for ss in EXPECTED.values() for s in ss}
    assert set(registry.readable_suffixes()) == \
        set(EXPECTED[VideoReader] + EXPECTED[VolumeReader] + EXPECTED[DicomReader])
    assert list(registry.readable_suffixes()) == sorted(registry.readable_suffixes())


def test_unknown_suffix_is_an_error_naming_the_file(tmp_path):
    for name in ('notes.txt', 'no_suffix'):
        path = tmp_path / name
        path.write_bytes(b'not a video at all' * 20)
        with pytest.raises(EchoDataError, match=rf'{name}: no reader for a file with'):
            registry.reader_for(path)
        assert registry.reader_for(path, default=None) is None


def test_dicom_found_by_its_marker(tmp_path):
    pytest.importorskip('pydicom', reason='pydicom is not installed (tools/setup_env.sh)')
    from echoseg.testing import write_dicom_cine
    path = write_dicom_cine(tmp_path / 'IM0001', _frames())   # exported without a suffix
    reader = registry.reader_for(path)
    assert isinstance(reader, DicomReader)
    frames, spacing = reader.read(path)
    np.testing.assert_array_equal(frames, _frames())
    assert spacing == pytest.approx((0.3, 0.45))


@pytest.mark.parametrize('suffix', ['.avi', '.mp4', '.nii.gz', '.nii', '.mhd', '.nrrd'])
def test_writer_and_reader_of_a_suffix_round_trip(suffix, tmp_path):
    path = str(tmp_path / f'clip{suffix}')
    writer = registry.writer_for(path)
    assert writer is (registry.write_volume if suffix in EXPECTED[VolumeReader]
                      else registry.write_opencv_video)
    writer(path, _frames(), fps=10.0, spacing=(0.5, 0.25))
    frames, spacing = registry.reader_for(path).read(path)
    assert frames.shape == (4, 20, 28)
    if suffix in EXPECTED[VolumeReader]:   # lossless, with the spacing in the header
        np.testing.assert_array_equal(frames, _frames())
        assert spacing == pytest.approx((0.5, 0.25))
    else:                                  # lossy codecs: close, no spacing
        assert np.abs(frames.astype(int) - _frames()).mean() < 8 and spacing is None


def test_writer_for_an_unwritable_suffix_names_the_file(tmp_path):
    for name in ('clip.webm', 'clip.png', 'clip.dcm'):
        with pytest.raises(EchoDataError, match=rf'{name}: cannot write a video with suffix'):
            registry.writer_for(tmp_path / name)


def test_media_types():
    assert registry.media_type('v_masks.nii.gz') == 'application/gzip'
    assert registry.media_type('v_overlay.webm') == 'video/webm'
    assert registry.media_type('V.CSV') == 'text/csv'
    assert registry.media_type('v_masks.npz') == 'application/zip'
    assert registry.media_type('v.unknown') == 'application/octet-stream'


def test_the_viewer_offers_the_readable_suffixes(tmp_path):
    from echoseg.web.service import find_samples
    readable = EXPECTED[VideoReader] + EXPECTED[VolumeReader] + EXPECTED[DicomReader]
    names = {f'v{i}{s}': s in readable
             for i, s in enumerate(s for ss in EXPECTED.values() for s in ss)}
    for name in list(names) + ['notes.txt']:
        (tmp_path / name).write_bytes(b'')
    assert sorted(find_samples(str(tmp_path))) == sorted(n for n, ok in names.items() if ok)
