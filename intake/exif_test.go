package intake

import (
	"encoding/binary"
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/require"
)

// exifJPEG is the start of a JPEG holding just the given APP1 EXIF body.
func exifJPEG(tiff []byte) []byte {
	return append([]byte{0xFF, markerSOI}, jpegSegment(markerAPP1, append([]byte("Exif\x00\x00"), tiff...))...)
}

func TestJPEGOrientation(t *testing.T) {
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			data := jpegWithMetadata(t, halves(8, 4), order, o)
			require.Equal(t, int(o), jpegOrientation(data), "%v, orientation %d", order, o)
		}
	}

	le := binary.LittleEndian
	withOrientation := func(typ uint16, count uint32, v []byte) []byte {
		tiff := append([]byte("II"), le.AppendUint16(nil, 42)...)
		tiff = le.AppendUint32(tiff, 8)
		tiff = le.AppendUint16(tiff, 1)
		tiff = le.AppendUint16(tiff, tagOrientation)
		tiff = le.AppendUint16(tiff, typ)
		tiff = le.AppendUint32(tiff, count)
		tiff = append(tiff, v...)
		return le.AppendUint32(tiff, 0)
	}
	good := exifTIFF(le, 6)
	xmp := jpegSegment(markerAPP1, []byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"as a LONG", exifJPEG(withOrientation(tiffLong, 1, le.AppendUint32(nil, 8))), 8},
		{"after XMP and padding", append(append([]byte{0xFF, markerSOI}, xmp...), append([]byte{0xFF}, exifJPEG(good)[2:]...)...), 6},
		{"after RST-like standalone marker", append([]byte{0xFF, markerSOI, 0xFF, 0xD0}, exifJPEG(good)[2:]...), 6},
		{"empty", nil, 1},
		{"SOI only", []byte{0xFF, markerSOI}, 1},
		{"not a JPEG", append([]byte("GIF89a"), exifJPEG(good)...), 1},
		{"no EXIF", []byte{0xFF, markerSOI, 0xFF, markerEOI}, 1},
		{"EXIF after the first scan", append([]byte{0xFF, markerSOI, 0xFF, markerSOS, 0, 2}, exifJPEG(good)[2:]...), 1},
		{"segment longer than the file", exifJPEG(good)[:40], 1},
		{"segment length below 2", []byte{0xFF, markerSOI, 0xFF, markerAPP1, 0, 1, 'E'}, 1},
		{"bad byte order", exifJPEG(append([]byte("IM"), good[2:]...)), 1},
		{"bad TIFF magic", exifJPEG(append([]byte("II\x2b\x00"), good[4:]...)), 1},
		{"IFD past the end", exifJPEG(append(append([]byte{}, good[:4]...), 0xff, 0xff, 0xff, 0xff)), 1},
		{"IFD inside the header", exifJPEG(append(append([]byte{}, good[:4]...), 2, 0, 0, 0)), 1},
		{"directory cut short", exifJPEG(good[:8+2+12+5]), 1},
		{"entry count beyond the data", exifJPEG(append(append([]byte{}, good[:8]...), 0xff, 0xff)), 1},
		{"wrong type", exifJPEG(withOrientation(2, 1, []byte{6, 0, 0, 0})), 1},
		{"two values", exifJPEG(withOrientation(tiffShort, 2, []byte{6, 0, 6, 0})), 1},
		{"value 0", exifJPEG(withOrientation(tiffShort, 1, []byte{0, 0, 0, 0})), 1},
		{"value 9", exifJPEG(withOrientation(tiffShort, 1, []byte{9, 0, 0, 0})), 1},
		{"LONG too big for a SHORT", exifJPEG(withOrientation(tiffLong, 1, []byte{6, 0, 1, 0})), 1},
		{"tiny TIFF", exifJPEG([]byte("II*")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, jpegOrientation(tc.data))
		})
	}
}

// TestOrient checks each orientation by where the stored picture's corners
// end up, as the EXIF specification draws them.
func TestOrient(t *testing.T) {
	tl, tr := color.RGBA{R: 255, A: 255}, color.RGBA{G: 255, A: 255}
	bl, br := color.RGBA{B: 255, A: 255}, color.RGBA{R: 255, G: 255, A: 255}
	src := image.NewRGBA(image.Rect(10, 10, 13, 12)) // 3×2, not at the origin
	src.SetRGBA(10, 10, tl)
	src.SetRGBA(12, 10, tr)
	src.SetRGBA(10, 11, bl)
	src.SetRGBA(12, 11, br)
	for _, tc := range []struct {
		orientation int
		w, h        int
		topLeft     color.RGBA
		topRight    color.RGBA
		bottomLeft  color.RGBA
	}{
		{1, 3, 2, tl, tr, bl},
		{2, 3, 2, tr, tl, br},
		{3, 3, 2, br, bl, tr},
		{4, 3, 2, bl, br, tl},
		{5, 2, 3, tl, bl, tr},
		{6, 2, 3, bl, tl, br},
		{7, 2, 3, br, tr, bl},
		{8, 2, 3, tr, br, tl},
		{0, 3, 2, tl, tr, bl},
		{9, 3, 2, tl, tr, bl},
	} {
		m := orient(src, tc.orientation)
		b := m.Bounds()
		require.Equal(t, [2]int{tc.w, tc.h}, [2]int{b.Dx(), b.Dy()}, "orientation %d: size", tc.orientation)
		at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA) }
		require.Equal(t, tc.topLeft, at(0, 0), "orientation %d: top left", tc.orientation)
		require.Equal(t, tc.topRight, at(tc.w-1, 0), "orientation %d: top right", tc.orientation)
		require.Equal(t, tc.bottomLeft, at(0, tc.h-1), "orientation %d: bottom left", tc.orientation)
	}
}
