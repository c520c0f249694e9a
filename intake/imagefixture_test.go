package intake

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Builders of test images carrying the metadata a phone or an editor puts
// in files, written byte by byte so the tests know exactly what went in.
// export_test.go hands them to the black-box tests too.

// gpsLatitude is 40° 26' 46.29": three TIFF RATIONALs as stored in EXIF.
func gpsLatitude(order binary.AppendByteOrder) []byte {
	var b []byte
	for _, v := range []uint32{40, 1, 26, 1, 4629, 100} {
		b = order.AppendUint32(b, v)
	}
	return b
}

// exifTIFF is the TIFF body of an EXIF segment as a phone writes it: IFD0
// with the camera make, the orientation and a pointer to a GPS IFD with
// latitude and longitude.
func exifTIFF(order binary.AppendByteOrder, orientation uint16) []byte {
	const (
		ifd0    = 8
		makeAt  = ifd0 + 2 + 3*12 + 4 // after IFD0's 3 entries and next-IFD link
		makeStr = "SecretCam X100\x00"
		gpsIFD  = makeAt + len(makeStr) + 1 // word-aligned
		latAt   = gpsIFD + 2 + 5*12 + 4
		lonAt   = latAt + 24
	)
	var b []byte
	if order == binary.LittleEndian {
		b = append(b, "II"...)
	} else {
		b = append(b, "MM"...)
	}
	b = order.AppendUint16(b, 42)
	b = order.AppendUint32(b, ifd0)
	entry := func(tag, typ uint16, count uint32, value []byte) {
		b = order.AppendUint16(b, tag)
		b = order.AppendUint16(b, typ)
		b = order.AppendUint32(b, count)
		b = append(b, append(value, make([]byte, 4-len(value))...)...)
	}
	short := func(v uint16) []byte { return order.AppendUint16(nil, v) }
	long := func(v uint32) []byte { return order.AppendUint32(nil, v) }
	const ascii, rational, byteType = 2, 5, 1

	b = order.AppendUint16(b, 3)
	entry(0x010F, ascii, uint32(len(makeStr)), long(makeAt))
	entry(tagOrientation, tiffShort, 1, short(orientation))
	entry(0x8825, tiffLong, 1, long(uint32(gpsIFD)))
	b = order.AppendUint32(b, 0)
	b = append(b, makeStr...)
	b = append(b, 0)

	b = order.AppendUint16(b, 5)
	entry(0x0000, byteType, 4, []byte{2, 3, 0, 0})
	entry(0x0001, ascii, 2, []byte("N\x00"))
	entry(0x0002, rational, 3, long(uint32(latAt)))
	entry(0x0003, ascii, 2, []byte("W\x00"))
	entry(0x0004, rational, 3, long(uint32(lonAt)))
	b = order.AppendUint32(b, 0)
	b = append(b, gpsLatitude(order)...)
	for _, v := range []uint32{79, 1, 58, 1, 5612, 100} {
		b = order.AppendUint32(b, v)
	}
	return b
}

// jpegSegment is one marker segment: 0xFF, the marker, a length that
// counts itself, the payload.
func jpegSegment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	return append(b, payload...)
}

// leaks are what the files built here carry besides pixels; none of it
// may come out of cleanImage.
func leaks() [][]byte {
	return [][]byte{
		[]byte("Exif"), []byte("SecretCam"),
		gpsLatitude(binary.LittleEndian), gpsLatitude(binary.BigEndian),
		[]byte("http://ns.adobe.com/xap"), []byte("GPSLatitude"),
		[]byte("ICC_PROFILE"), []byte("Elm St"), []byte("<script>"),
		[]byte("tEXt"), []byte("eXIf"), []byte("trailing secret"),
	}
}

// xmpPacket is XMP as editors write it, with a position in it.
const xmpPacket = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
	`<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="40,26.7715N"/></rdf:RDF></x:xmpmeta>`

// jpegWithMetadata encodes m as a JPEG and adds what a phone and an editor
// leave in one: EXIF with GPS and the given orientation, XMP, an ICC
// profile, a comment with markup, and bytes after the end of the image.
func jpegWithMetadata(t testing.TB, m image.Image, order binary.AppendByteOrder, orientation uint16) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatalf("encode test jpeg: %v", err)
	}
	plain := buf.Bytes()
	out := append([]byte{}, plain[:2]...) // SOI
	out = append(out, jpegSegment(markerAPP1, append([]byte("Exif\x00\x00"), exifTIFF(order, orientation)...))...)
	out = append(out, jpegSegment(markerAPP1, []byte("http://ns.adobe.com/xap/1.0/\x00"+xmpPacket))...)
	out = append(out, jpegSegment(0xE2, []byte("ICC_PROFILE\x00\x01\x01fake profile data"))...)
	out = append(out, jpegSegment(0xFE, []byte("taken outside 12 Elm St <script>alert(1)</script>"))...)
	out = append(out, plain[2:]...)
	return append(out, "trailing secret"...)
}

// halves is a w×h picture, red on the left half and blue on the right, so
// a test can tell which way up it came back.
func halves(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 255, A: 255}
			if x >= w/2 {
				c = color.RGBA{B: 255, A: 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngWithText encodes m as a PNG with a tEXt comment and an eXIf chunk
// after its header.
func pngWithText(t testing.TB, m image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatalf("encode test png: %v", err)
	}
	plain := buf.Bytes()
	const afterIHDR = 8 + 4 + 4 + 13 + 4
	out := append([]byte{}, plain[:afterIHDR]...)
	out = append(out, pngChunk("tEXt", []byte("Comment\x00screenshot at 12 Elm St"))...)
	out = append(out, pngChunk("eXIf", exifTIFF(binary.BigEndian, 6))...)
	return append(out, plain[afterIHDR:]...)
}

// pngHeader is a PNG that claims a w×h picture and holds no pixels: the
// start of a decompression bomb.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, no interlace
	out := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// animatedGIF is a w×h two-frame GIF, red then blue, with a comment.
func animatedGIF(t testing.TB, w, h int) []byte {
	frame := func(c color.Color) *image.Paletted {
		m := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for y := range h {
			for x := range w {
				m.Set(x, y, c)
			}
		}
		return m
	}
	var buf bytes.Buffer
	g := &gif.GIF{
		Image: []*image.Paletted{frame(color.RGBA{R: 255, A: 255}), frame(color.RGBA{B: 255, A: 255})},
		Delay: []int{10, 10},
	}
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatalf("encode test gif: %v", err)
	}
	b := buf.Bytes()
	comment := []byte("\x21\xFE\x17posted from 12 Elm St!!\x00") // one sub-block of 0x17 bytes
	return append(append(append([]byte{}, b[:len(b)-1]...), comment...), b[len(b)-1])
}

// webpSolid is a lossless WebP (VP8L) of one colour. x/image has no WebP
// encoder, so the bitstream is written here: no transforms, no colour
// cache, and five one-symbol prefix codes, which cost no bits per pixel.
// With metadata it uses the extended format (VP8X) and carries EXIF (GPS
// included) and XMP chunks.
func webpSolid(w, h int, c color.NRGBA, metadata bool) []byte {
	var bits bitWriter
	bits.write(uint32(w-1), 14)
	bits.write(uint32(h-1), 14)
	bits.write(0, 1) // alpha not used
	bits.write(0, 3) // version 0
	bits.write(0, 1) // no transform
	bits.write(0, 1) // no colour cache
	bits.write(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		bits.write(1, 1) // simple code
		bits.write(0, 1) // one symbol
		bits.write(1, 1) // of eight bits
		bits.write(uint32(sym), 8)
	}
	bits.write(0b001, 3) // distance: simple code, one symbol, of one bit
	bits.write(0, 1)
	vp8l := append([]byte{0x2f}, bits.buf...)

	body := []byte("WEBP")
	if metadata {
		x := []byte{0x08 | 0x04, 0, 0, 0} // EXIF and XMP present
		x = append(x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
		x = append(x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
		body = append(body, riffChunk("VP8X", x)...)
	}
	body = append(body, riffChunk("VP8L", vp8l)...)
	if metadata {
		body = append(body, riffChunk("EXIF", exifTIFF(binary.LittleEndian, 6))...)
		body = append(body, riffChunk("XMP ", []byte(xmpPacket))...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// riffChunk is one RIFF chunk, padded to an even length.
func riffChunk(fourCC string, data []byte) []byte {
	b := append([]byte(fourCC), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// bitWriter packs bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf []byte
	n   uint
}

func (b *bitWriter) write(v uint32, bits uint) {
	for i := range bits {
		if b.n%8 == 0 {
			b.buf = append(b.buf, 0)
		}
		b.buf[len(b.buf)-1] |= byte(v>>i&1) << (b.n % 8)
		b.n++
	}
}

// manyScans repeats the scan of a baseline grayscale JPEG n times: each
// copy is decoded again, over the whole picture.
func manyScans(t testing.TB, n int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatalf("encode test jpeg: %v", err)
	}
	b := buf.Bytes()
	sos := bytes.Index(b, []byte{0xFF, markerSOS})
	scan := b[sos : len(b)-2]
	out := append([]byte{}, b[:sos]...)
	for range n {
		out = append(out, scan...)
	}
	return append(out, 0xFF, markerEOI)
}
