package intake

// The image builders of imagefixture_test.go, for the black-box tests in
// package intake_test.
var (
	JPEGWithMetadata = jpegWithMetadata
	Halves           = halves
	PNGWithText      = pngWithText
	PNGHeader        = pngHeader
	AnimatedGIF      = animatedGIF
	WebPSolid        = webpSolid
	ManyScans        = manyScans
	Leaks            = leaks
)

// MaxJPEGScans is the most scans a JPEG may have.
const MaxJPEGScans = maxJPEGScans
