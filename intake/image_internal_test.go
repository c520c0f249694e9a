package intake

import (
	"context"
	"errors"
	"image/color"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCleanImagesWaitsInTurn: images are decoded only in a free slot, a
// reporter who leaves while waiting gets the context's error rather than a
// complaint about their image, and every slot is given back.
func TestCleanImagesWaitsInTurn(t *testing.T) {
	in := &Intake{decoding: make(chan struct{}, 1)}
	webp := webpSolid(2, 2, color.NRGBA{R: 9, A: 255}, false)

	in.decoding <- struct{}{} // someone else is decoding
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := in.cleanImages(ctx, [][]byte{webp})
	require.ErrorIs(t, err, context.Canceled)
	var fe *FieldError
	require.False(t, errors.As(err, &fe), "a cancelled wait blamed the image: %v", err)
	<-in.decoding

	imgs, err := in.cleanImages(context.Background(), [][]byte{webp, {}, webp})
	require.NoError(t, err)
	require.Len(t, imgs, 2)
	_, err = in.cleanImages(context.Background(), [][]byte{webp, []byte("not an image")})
	require.ErrorAs(t, err, &fe)
	require.Empty(t, in.decoding, "a decoding slot was not given back")
}
