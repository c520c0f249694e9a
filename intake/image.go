package intake

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Limits on an image's pixels, checked from its header before it is
// decoded: a few kilobytes can claim a picture that needs gigabytes once
// decoded. 40 megapixels is more than any phone screenshot or ordinary
// photo; a reporter with a bigger one can send a screenshot of it.
const (
	MaxImagePixels = 40_000_000
	MaxImageSide   = 12000
)

// maxJPEGScans bounds the scans of a JPEG. Each scan of a progressive JPEG
// goes over the whole picture again and can be a few bytes long, so an
// 8 MB file could otherwise buy hours of decoding. Encoders use at most a
// dozen or so.
const maxJPEGScans = 64

// jpegQuality keeps screenshots legible and photos detailed at a size a
// dashboard loads quickly.
const jpegQuality = 85

// The content types of cleaned images.
const (
	contentTypeJPEG = "image/jpeg"
	contentTypePNG  = "image/png"
)

// Image is an uploaded image after cleaning: decoded and encoded again, so
// nothing but its pixels is left: no EXIF (camera, time, GPS position), XMP,
// ICC profile, comment or anything appended to the file.
type Image struct {
	ContentType string // "image/jpeg" or "image/png"
	Data        []byte
}

// Why cleanImage refused an image. Submit turns them into FieldErrors.
var (
	errImageTooLarge      = errors.New("image is too large")
	errImageTooManyPixels = errors.New("image has too many pixels")
	errNotImage           = errors.New("not a JPEG, PNG, GIF or WebP image")
)

// imageFormat is one format tipline takes, with its decoders.
type imageFormat struct {
	name         string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

// sniffImage recognises a format by the file's first bytes: the signatures
// of the WHATWG MIME sniffing standard, which http.DetectContentType
// follows. The name or type a browser sent is never asked: it is whatever
// the sender wants it to be. Decoders are called by name rather than
// through image.Decode's registry, so a format registered elsewhere in the
// program (BMP, TIFF) is never taken.
func sniffImage(b []byte) (imageFormat, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return imageFormat{"jpeg", jpeg.DecodeConfig, jpeg.Decode}, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return imageFormat{"png", png.DecodeConfig, png.Decode}, true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		// gif.Decode returns the first frame only: an animation is
		// reviewed as its first picture.
		return imageFormat{"gif", gif.DecodeConfig, gif.Decode}, true
	case len(b) >= 15 && string(b[:4]) == "RIFF" && string(b[8:15]) == "WEBPVP8":
		return imageFormat{"webp", webp.DecodeConfig, webp.Decode}, true
	}
	return imageFormat{}, false
}

// cleanImage checks an uploaded image by its content and encodes it again
// without any metadata: JPEG as JPEG, turned upright as its EXIF says;
// PNG, GIF (first frame) and WebP as PNG, which keeps them lossless.
func cleanImage(raw []byte) (Image, error) {
	if len(raw) > MaxImageBytes {
		return Image{}, fmt.Errorf("intake: clean image: %d bytes: %w", len(raw), errImageTooLarge)
	}
	f, ok := sniffImage(raw)
	if !ok {
		return Image{}, fmt.Errorf("intake: clean image: %w", errNotImage)
	}
	cfg, err := safely(func() (image.Config, error) { return f.decodeConfig(bytes.NewReader(raw)) })
	if err != nil {
		return Image{}, fmt.Errorf("intake: clean image: %s header: %w: %w", f.name, errNotImage, err)
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return Image{}, fmt.Errorf("intake: clean image: %s: %w", f.name, err)
	}
	// Counting the bytes FF DA over-counts (metadata may hold them by
	// chance) but never under-counts: a decoder cannot see a scan that is
	// not there.
	if f.name == "jpeg" && bytes.Count(raw, []byte{0xFF, markerSOS}) > maxJPEGScans {
		return Image{}, fmt.Errorf("intake: clean image: jpeg: more than %d scans: %w", maxJPEGScans, errNotImage)
	}
	m, err := safely(func() (image.Image, error) { return f.decode(bytes.NewReader(raw)) })
	if err != nil {
		return Image{}, fmt.Errorf("intake: clean image: %s: %w: %w", f.name, errNotImage, err)
	}
	// The decoders check the picture against its header, but the guard
	// above must not rest on that alone.
	if err := checkSize(m.Bounds().Dx(), m.Bounds().Dy()); err != nil {
		return Image{}, fmt.Errorf("intake: clean image: %s: decoded: %w", f.name, err)
	}
	var out bytes.Buffer
	if f.name == "jpeg" {
		m = orient(m, jpegOrientation(raw))
		if err := jpeg.Encode(&out, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return Image{}, fmt.Errorf("intake: clean image: encode jpeg: %w", err)
		}
		return Image{ContentType: contentTypeJPEG, Data: out.Bytes()}, nil
	}
	if _, ok := m.(*image.YCbCr); ok {
		// Lossy WebP: the PNG encoder would read it pixel by pixel
		// through interfaces; draw converts it in one fast pass.
		m = toRGBA(m)
	}
	if err := png.Encode(&out, m); err != nil {
		return Image{}, fmt.Errorf("intake: clean image: encode png: %w", err)
	}
	return Image{ContentType: contentTypePNG, Data: out.Bytes()}, nil
}

// checkSize refuses pictures too big to decode safely, and empty ones.
func checkSize(w, h int) error {
	switch {
	case w < 1 || h < 1:
		return fmt.Errorf("%dx%d: %w", w, h, errNotImage)
	case w > MaxImageSide || h > MaxImageSide || w*h > MaxImagePixels:
		// The sides are checked first, so w*h cannot overflow.
		return fmt.Errorf("%dx%d: %w", w, h, errImageTooManyPixels)
	}
	return nil
}

// safely runs a decoder and turns a panic into an error. The standard
// decoders are fuzzed, and so is x/image, but decoders of crafted files have
// panicked before; one crafted upload must not take the tip line down.
func safely[T any](decode func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panicked: %v", r)
		}
	}()
	return decode()
}

// toRGBA copies m into an RGBA picture whose bounds start at (0, 0).
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
	return dst
}

// orient turns m upright according to an EXIF orientation. The values
// name where the stored picture's first row and column belong: 2-4 are
// mirrors and a half turn, 5-8 swap width and height.
func orient(m image.Image, orientation int) image.Image {
	if orientation < 2 || orientation > 8 {
		return m
	}
	src := toRGBA(m)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if orientation >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := range dh {
		for dx := range dw {
			// (sx, sy) is the stored pixel shown at (dx, dy).
			var sx, sy int
			switch orientation {
			case 2: // mirrored left to right
				sx, sy = w-1-dx, dy
			case 3: // turned half way
				sx, sy = w-1-dx, h-1-dy
			case 4: // mirrored top to bottom
				sx, sy = dx, h-1-dy
			case 5: // mirrored along the main diagonal
				sx, sy = dy, dx
			case 6: // stored a quarter turn anticlockwise: turn clockwise
				sx, sy = dy, h-1-dx
			case 7: // mirrored along the other diagonal
				sx, sy = w-1-dy, h-1-dx
			case 8: // stored a quarter turn clockwise: turn anticlockwise
				sx, sy = w-1-dy, dx
			}
			copy(dst.Pix[dy*dst.Stride+4*dx:][:4], src.Pix[sy*src.Stride+4*sx:][:4])
		}
	}
	return dst
}
