package intake_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
)

// decode reads a cleaned image as the type it says it is.
func decode(t *testing.T, img intake.Image) image.Image {
	t.Helper()
	var (
		m   image.Image
		err error
	)
	switch img.ContentType {
	case "image/jpeg":
		require.True(t, bytes.HasPrefix(img.Data, []byte("\xff\xd8\xff")), "image/jpeg does not start like a JPEG")
		m, err = jpeg.Decode(bytes.NewReader(img.Data))
	case "image/png":
		require.True(t, bytes.HasPrefix(img.Data, []byte("\x89PNG\r\n\x1a\n")), "image/png does not start like a PNG")
		m, err = png.Decode(bytes.NewReader(img.Data))
	default:
		t.Fatalf("content type %q, want image/jpeg or image/png", img.ContentType)
	}
	require.NoError(t, err, "a cleaned %s does not decode", img.ContentType)
	return m
}

// near tells whether c is within a JPEG's error of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { return int(x>>8)-int(y) < 48 && int(y)-int(x>>8) < 48 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

var (
	red  = color.RGBA{R: 255, A: 255}
	blue = color.RGBA{B: 255, A: 255}
)

// requireClean fails if any metadata the test files carry is in data.
func requireClean(t *testing.T, data []byte) {
	t.Helper()
	for _, leak := range intake.Leaks() {
		require.False(t, bytes.Contains(data, leak), "cleaned image still holds %q", leak)
	}
}

func TestSubmitJPEGDropsMetadataAndTurnsUpright(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		order       binary.AppendByteOrder
		orientation uint16
		w, h        int
		first       color.RGBA // at the top, or on the left if not turned
	}{
		{"upright, big-endian EXIF", binary.BigEndian, 1, 40, 20, red},
		{"half turn", binary.LittleEndian, 3, 40, 20, blue},
		{"quarter turn clockwise needed", binary.LittleEndian, 6, 20, 40, red},
		{"quarter turn anticlockwise needed, big-endian EXIF", binary.BigEndian, 8, 20, 40, blue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := intake.JPEGWithMetadata(t, intake.Halves(40, 20), tc.order, tc.orientation)
			rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "photo of the note", Images: [][]byte{raw}})
			require.NoError(t, err)
			tip, err := f.store.Tip(ctx, rc.TipID)
			require.NoError(t, err)
			require.Equal(t, 1, tip.Images)

			imgs, err := f.store.Images(ctx, rc.TipID)
			require.NoError(t, err)
			require.Len(t, imgs, 1)
			require.Equal(t, "image/jpeg", imgs[0].ContentType)
			requireClean(t, imgs[0].Data)

			m := decode(t, imgs[0])
			b := m.Bounds()
			require.Equal(t, [2]int{tc.w, tc.h}, [2]int{b.Dx(), b.Dy()}, "got %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			var first, last color.Color
			if tc.w > tc.h {
				first, last = m.At(b.Min.X+5, b.Min.Y+10), m.At(b.Max.X-5, b.Min.Y+10)
			} else {
				first, last = m.At(b.Min.X+10, b.Min.Y+5), m.At(b.Min.X+10, b.Max.Y-5)
			}
			other := red
			if tc.first == red {
				other = blue
			}
			require.True(t, near(first, tc.first), "first half is %v, want %v", first, tc.first)
			require.True(t, near(last, other), "second half is %v, want %v", last, other)
		})
	}
}

func TestSubmitPNGGIFWebPBecomePNG(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src := intake.Halves(8, 6)
	green := color.NRGBA{R: 10, G: 200, B: 30, A: 255}
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "screenshots", Images: [][]byte{
		intake.PNGWithText(t, src),
		intake.AnimatedGIF(t, 5, 3),
		intake.WebPSolid(7, 4, green, true),
	}})
	require.NoError(t, err)
	imgs, err := f.store.Images(ctx, rc.TipID)
	require.NoError(t, err)
	require.Len(t, imgs, 3)
	for i, img := range imgs {
		require.Equal(t, "image/png", img.ContentType, "image %d", i+1)
		requireClean(t, img.Data)
	}

	// PNG is lossless: every pixel comes back.
	m := decode(t, imgs[0])
	require.Equal(t, src.Bounds().Size(), m.Bounds().Size())
	for y := range 6 {
		for x := range 8 {
			require.Equal(t, src.RGBAAt(x, y), color.RGBAModel.Convert(m.At(x, y)), "PNG pixel %d,%d", x, y)
		}
	}

	// GIF: the first frame (red) of two, as a PNG.
	m = decode(t, imgs[1])
	require.Equal(t, image.Pt(5, 3), m.Bounds().Size())
	require.True(t, near(m.At(2, 1), red), "GIF came back as %v, want its first frame, red", m.At(2, 1))

	// WebP (extended, with EXIF and XMP chunks): the colour, nothing else.
	m = decode(t, imgs[2])
	require.Equal(t, image.Pt(7, 4), m.Bounds().Size())
	require.Equal(t, green, color.NRGBAModel.Convert(m.At(6, 3)))
}

func TestSubmitRefusesImages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jpg := intake.JPEGWithMetadata(t, intake.Halves(40, 20), binary.LittleEndian, 1)
	random := make([]byte, 4096)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(random)
	oversize := append(append([]byte{}, jpg...), make([]byte, intake.MaxImageBytes)...)

	for _, tc := range []struct {
		name   string
		images [][]byte
		code   string
		limit  int
		which  string // the image the message names
	}{
		{"text file named .jpg", [][]byte{[]byte("this is my essay, not a photo\n")}, intake.ErrImageType, 0, "Image 1"},
		{"random bytes", [][]byte{random}, intake.ErrImageType, 0, "Image 1"},
		{"truncated JPEG", [][]byte{jpg[:len(jpg)/2]}, intake.ErrImageType, 0, "Image 1"},
		{"SVG with a script", [][]byte{[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, intake.ErrImageType, 0, "Image 1"},
		{"HTML", [][]byte{[]byte("<!DOCTYPE html><script>alert(1)</script>")}, intake.ErrImageType, 0, "Image 1"},
		{"PNG signature then garbage", [][]byte{append([]byte("\x89PNG\r\n\x1a\n"), random[:100]...)}, intake.ErrImageType, 0, "Image 1"},
		{"JPEG with too many scans", [][]byte{intake.ManyScans(t, intake.MaxJPEGScans+1)}, intake.ErrImageType, 0, "Image 1"},
		{"second of two is bad", [][]byte{jpg, []byte("GIF89a nope")}, intake.ErrImageType, 0, "Image 2"},
		{"decompression bomb: 100000x100000 PNG", [][]byte{intake.PNGHeader(100000, 100000)}, intake.ErrImageTooLarge, intake.MaxImageBytes, "Image 1"},
		{"41 megapixels", [][]byte{intake.PNGHeader(6400, 6400)}, intake.ErrImageTooLarge, intake.MaxImageBytes, "Image 1"},
		{"one side too long", [][]byte{intake.PNGHeader(intake.MaxImageSide+1, 1)}, intake.ErrImageTooLarge, intake.MaxImageBytes, "Image 1"},
		{"over MaxImageBytes, refused before decoding", [][]byte{jpg, oversize}, intake.ErrImageTooLarge, intake.MaxImageBytes, "Image 2"},
		{"four images", [][]byte{jpg, jpg, jpg, jpg}, intake.ErrTooManyImages, intake.MaxImages, "At most 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "see attached", Images: tc.images})
			var fe *intake.FieldError
			require.ErrorAs(t, err, &fe, "got %v", err)
			require.Equal(t, "images", fe.Field)
			require.Equal(t, tc.code, fe.Code, "message %q", fe.Message)
			require.Equal(t, tc.limit, fe.Limit)
			require.Contains(t, fe.Message, tc.which)
			require.Empty(t, rc.Token, "a token for a report that was refused")
		})
	}
	require.Empty(t, redistest.Dump(t, f.rdb), "a refused report left something in Redis")
}

func TestSubmitSkipsEmptyImages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jpg := intake.JPEGWithMetadata(t, intake.Halves(40, 20), binary.LittleEndian, 1)
	// Three file inputs, the first left blank: two images, and a fourth
	// blank does not make them too many.
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "b", Images: [][]byte{nil, jpg, intake.PNGWithText(t, intake.Halves(2, 2)), {}}})
	require.NoError(t, err)
	imgs, err := f.store.Images(ctx, rc.TipID)
	require.NoError(t, err)
	require.Len(t, imgs, 2)
	require.Equal(t, "image/jpeg", imgs[0].ContentType)
	require.Equal(t, "image/png", imgs[1].ContentType)
}

func TestStoredImagesAreSealed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jpg := intake.JPEGWithMetadata(t, intake.Halves(40, 20), binary.LittleEndian, 6)
	pngRaw := intake.PNGWithText(t, intake.Halves(8, 8))
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "b", Images: [][]byte{jpg, pngRaw}})
	require.NoError(t, err)
	imgs, err := f.store.Images(ctx, rc.TipID)
	require.NoError(t, err)
	require.Len(t, imgs, 2)

	// Each image has its own key in the tip's Cluster slot.
	for n := 1; n <= 2; n++ {
		key := "tip:{" + rc.TipID + "}:img:" + string(rune('0'+n))
		v, err := f.rdb.Get(ctx, key).Bytes()
		require.NoError(t, err, "no key %s", key)
		require.False(t, bytes.HasPrefix(v, []byte("\xff\xd8\xff")), "%s starts like a JPEG", key)
		require.False(t, bytes.HasPrefix(v, []byte("\x89PNG")), "%s starts like a PNG", key)
	}

	// Neither the uploads nor the cleaned images are anywhere in Redis:
	// not their signatures, not any 16 bytes of them.
	dump := []byte(redistest.Dump(t, f.rdb))
	require.False(t, bytes.Contains(dump, []byte("\x89PNG\r\n\x1a\n")), "a PNG signature is in Redis")
	require.False(t, bytes.Contains(dump, []byte("\xff\xd8\xff\xe1")), "a JPEG with EXIF is in Redis")
	for _, plain := range [][]byte{jpg, pngRaw, imgs[0].Data, imgs[1].Data} {
		for i := 0; i+16 <= len(plain); i += 16 {
			require.False(t, bytes.Contains(dump, plain[i:i+16]), "bytes %d-%d of an image are in Redis in the clear", i, i+16)
		}
	}
	requireClean(t, dump)

	// Sealed to their place: swapped, they no longer open.
	k1, k2 := "tip:{"+rc.TipID+"}:img:1", "tip:{"+rc.TipID+"}:img:2"
	v1, v2 := f.rdb.Get(ctx, k1).Val(), f.rdb.Get(ctx, k2).Val()
	require.NoError(t, f.rdb.MSet(ctx, k1, v2, k2, v1).Err())
	_, err = f.store.Images(ctx, rc.TipID)
	require.Error(t, err, "images swapped in Redis still opened")
}

func TestImagesOfUnknownTips(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.store.Images(ctx, "NOSUCHTIP")
	require.ErrorIs(t, err, intake.ErrNotFound)
	_, err = f.store.Image(ctx, "NOSUCHTIP", 1)
	require.ErrorIs(t, err, intake.ErrNotFound)

	// A tip without images has none, and is found.
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "no pictures"})
	require.NoError(t, err)
	imgs, err := f.store.Images(ctx, rc.TipID)
	require.NoError(t, err)
	require.Empty(t, imgs)
	tip, err := f.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.Zero(t, tip.Images)

	// One image at a time, as the dashboard serves them.
	rc, err = f.intake.Submit(ctx, intake.Report{Org: "x", Body: "one picture", Images: [][]byte{intake.AnimatedGIF(t, 4, 4)}})
	require.NoError(t, err)
	img, err := f.store.Image(ctx, rc.TipID, 1)
	require.NoError(t, err)
	require.Equal(t, "image/png", img.ContentType)
	for _, n := range []int{0, 2, -1} {
		_, err = f.store.Image(ctx, rc.TipID, n)
		require.ErrorIs(t, err, intake.ErrNotFound, "image %d of a tip with one", n)
	}
	require.False(t, strings.Contains(f.logs.String(), "Elm St"))
}

func TestSealBytes(t *testing.T) {
	old := intake.Key{ID: "old", Secret: intake.NewKeySecret()}
	hash := intake.NewKeySecret()
	k1, err := intake.NewKeyring([]intake.Key{old}, hash)
	require.NoError(t, err)
	plain := []byte("\xff\xd8\xff\x00binary:with:colons\x00")
	sealed := k1.SealBytes(plain, "tip:{A}:img:1")
	require.True(t, bytes.HasPrefix(sealed, []byte("old:")), "sealed value does not name its key: %q", sealed[:8])
	require.False(t, bytes.Contains(sealed, plain[:8]))

	k2, err := intake.NewKeyring([]intake.Key{{ID: "new", Secret: intake.NewKeySecret()}, old}, hash)
	require.NoError(t, err)
	got, err := k2.OpenBytes(sealed, "tip:{A}:img:1")
	require.NoError(t, err, "a rotated keyring must still open images sealed with the old key")
	require.Equal(t, plain, got)

	for name, bad := range map[string]struct {
		sealed  []byte
		boundTo string
	}{
		"other place":   {sealed, "tip:{A}:img:2"},
		"other tip":     {sealed, "tip:{B}:img:1"},
		"not sealed":    {[]byte("no colon here"), "tip:{A}:img:1"},
		"unknown key":   {append([]byte("gone:"), sealed[4:]...), "tip:{A}:img:1"},
		"too short":     {[]byte("old:abc"), "tip:{A}:img:1"},
		"tampered with": {append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "tip:{A}:img:1"},
	} {
		_, err := k2.OpenBytes(bad.sealed, bad.boundTo)
		require.Error(t, err, name)
	}
}
