package intake

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"testing"
)

// imageSeeds are valid and broken files of every format cleanImage takes.
func imageSeeds(t testing.TB) [][]byte {
	jpg := jpegWithMetadata(t, halves(16, 8), binary.BigEndian, 6)
	seeds := [][]byte{
		jpg,
		jpg[:len(jpg)/2],
		jpegWithMetadata(t, image.NewGray(image.Rect(0, 0, 9, 7)), binary.LittleEndian, 5),
		pngWithText(t, halves(8, 8)),
		pngHeader(100000, 100000),
		animatedGIF(t, 5, 3),
		webpSolid(3, 2, color.NRGBA{R: 10, G: 200, B: 30, A: 255}, false),
		webpSolid(2, 3, color.NRGBA{R: 1, G: 2, B: 3, A: 4}, true),
		manyScans(t, 3),
		[]byte("hello, this is not a picture"),
		{},
	}
	return seeds
}

// FuzzCleanImage: whatever is uploaded, cleanImage never panics, and what
// it accepts comes out as a picture of the type it names, within the
// limits, with no EXIF.
func FuzzCleanImage(f *testing.F) {
	for _, s := range imageSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		img, err := cleanImage(raw)
		if err != nil {
			return
		}
		// What is taken is an image by the standard sniffing rules too,
		// so a browser shown the original would have seen a picture.
		if sniffed := http.DetectContentType(raw); sniffed[:6] != "image/" {
			t.Fatalf("accepted a file sniffed as %s", sniffed)
		}
		var (
			m    image.Image
			err2 error
		)
		switch img.ContentType {
		case contentTypeJPEG:
			m, err2 = jpeg.Decode(bytes.NewReader(img.Data))
		case contentTypePNG:
			m, err2 = png.Decode(bytes.NewReader(img.Data))
		default:
			t.Fatalf("content type %q", img.ContentType)
		}
		if err2 != nil {
			t.Fatalf("output does not decode as %s: %v", img.ContentType, err2)
		}
		if b := m.Bounds(); b.Dx() < 1 || b.Dy() < 1 || b.Dx() > MaxImageSide || b.Dy() > MaxImageSide || b.Dx()*b.Dy() > MaxImagePixels {
			t.Fatalf("output is %dx%d", b.Dx(), b.Dy())
		}
		if bytes.Contains(img.Data, []byte("Exif")) {
			t.Fatalf("output holds an Exif marker")
		}
	})
}

// FuzzExifOrientation: the EXIF reader never panics and never returns
// anything but an orientation, 1-8, whether it is given a JPEG or a bare
// TIFF structure.
func FuzzExifOrientation(f *testing.F) {
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			f.Add(exifJPEG(exifTIFF(order, o)))
		}
		f.Add(exifTIFF(order, 3))
	}
	f.Add(jpegWithMetadata(f, halves(4, 4), binary.LittleEndian, 7))
	f.Add([]byte{0xFF, markerSOI, 0xFF, markerEOI})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("jpegOrientation = %d", o)
		}
		if o := exifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("exifOrientation = %d", o)
		}
	})
}
