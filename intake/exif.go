package intake

import (
	"bytes"
	"encoding/binary"
)

// This file reads the one thing tipline keeps from a JPEG's metadata: the
// EXIF orientation. Phones store pictures as the sensor saw them and say in
// EXIF which way is up; re-encoding drops EXIF, so without turning the
// pixels first a reviewer would get a sideways photo. Everything here reads
// untrusted bytes: every offset is checked before use, and anything odd
// means "no orientation", never a panic.

// JPEG markers: the byte after 0xFF.
const (
	markerSOI  = 0xD8 // start of image
	markerEOI  = 0xD9 // end of image
	markerSOS  = 0xDA // start of scan: entropy-coded data follows
	markerAPP1 = 0xE1 // EXIF and XMP live here
)

// exifHeader starts an APP1 segment that holds EXIF (XMP uses APP1 too).
var exifHeader = []byte("Exif\x00\x00")

// TIFF field types an orientation can be stored as. The standard says
// SHORT; a few writers use LONG, and the meaning is the same.
const (
	tiffShort = 3
	tiffLong  = 4
)

const tagOrientation = 0x0112

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG file, or 1
// (upright) when it has none or its EXIF cannot be read.
func jpegOrientation(data []byte) int {
	tiff := jpegExif(data)
	if tiff == nil {
		return 1
	}
	return exifOrientation(tiff)
}

// jpegExif returns the TIFF structure of a JPEG's first EXIF segment, or nil.
// Only the segments before the first scan are read: metadata comes first,
// and what follows is image data.
func jpegExif(data []byte) []byte {
	if len(data) < 2 || data[0] != 0xFF || data[1] != markerSOI {
		return nil
	}
	i := 2
	for {
		// A marker is 0xFF, possibly padded with more 0xFF, then its code.
		if i >= len(data) || data[i] != 0xFF {
			return nil
		}
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i >= len(data) {
			return nil
		}
		marker := data[i]
		i++
		switch {
		case marker == markerSOS, marker == markerEOI, marker == markerSOI, marker == 0x00:
			return nil
		case marker == 0x01, marker >= 0xD0 && marker <= 0xD7:
			continue // TEM and RSTn stand alone, without a length
		}
		if len(data)-i < 2 {
			return nil
		}
		// The length counts its own two bytes.
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || n > len(data)-i {
			return nil
		}
		payload := data[i+2 : i+n]
		i += n
		if marker == markerAPP1 && bytes.HasPrefix(payload, exifHeader) {
			return payload[len(exifHeader):]
		}
	}
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF structure (the body
// of an EXIF segment) and returns it, or 1 if it is absent or not 1-8.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 1
	}
	// Offsets are unsigned 32-bit; compare them as uint64 so that no
	// conversion can wrap, whatever the size of int.
	ifd := uint64(order.Uint32(tiff[4:]))
	size := uint64(len(tiff))
	if ifd < 8 || ifd+2 > size {
		return 1
	}
	count := uint64(order.Uint16(tiff[ifd:]))
	entries := ifd + 2
	if fit := (size - entries) / 12; count > fit {
		count = fit // a truncated directory: read the entries that are there
	}
	for k := range count {
		e := tiff[entries+12*k : entries+12*k+12]
		if order.Uint16(e) != tagOrientation {
			continue
		}
		if order.Uint32(e[4:]) != 1 {
			return 1
		}
		// A single SHORT or LONG sits in the entry's value field itself.
		var v uint32
		switch order.Uint16(e[2:]) {
		case tiffShort:
			v = uint32(order.Uint16(e[8:]))
		case tiffLong:
			v = order.Uint32(e[8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
