package render

import (
	"sort"
	"strings"
	"unicode"

	"github.com/go-telegram/bot/models"
)

// Telegram's length limits, in UTF-16 code units.
const (
	TextLimit    = 4096 // sendMessage text
	CaptionLimit = 1024 // media caption
)

// chunk is one message's worth of a longer formatted text.
type chunk struct {
	Text     string
	Entities []models.MessageEntity
}

// splitText cuts a formatted text into chunks of at most limit UTF-16 code
// units, preferring a paragraph break (blank line), then a line break, then a
// space, and cutting hard (between code points, never inside a surrogate
// pair) only inside a run with no whitespace. Chunks are trimmed of leading
// and trailing whitespace; none is empty, so a blank text yields none.
// Entities are clipped to each chunk and re-based (one crossing a cut becomes
// two); clipped parts of only whitespace are dropped. A limit below 2 is
// taken as 2, the size of a surrogate pair.
func splitText(text string, entities []models.MessageEntity, limit int) []chunk {
	if limit < 2 {
		limit = 2
	}
	t := newUTF16Text(text)
	n := len(t.r)
	cl := newEntityClipper(entities)
	var chunks []chunk
	i := 0
	for {
		for i < n && unicode.IsSpace(t.r[i]) {
			i++
		}
		if i == n {
			return chunks
		}
		end := n
		for unicode.IsSpace(t.r[end-1]) {
			end--
		}
		if t.pos[end]-t.pos[i] <= limit {
			return append(chunks, t.slice(i, end, cl.next(t.pos[i], t.pos[end])))
		}
		cut := t.cut(i, limit)
		e := cut
		for unicode.IsSpace(t.r[e-1]) {
			e--
		}
		chunks = append(chunks, t.slice(i, e, cl.next(t.pos[i], t.pos[e])))
		i = cut
	}
}

// entityClipper hands out, for successive ranges of a text, the entities
// that meet each range, without rescanning all entities for every chunk.
type entityClipper struct {
	sorted []models.MessageEntity // by offset, outer first
	added  int                    // sorted[:added] have been considered
	active []models.MessageEntity // started, possibly not yet ended
}

func newEntityClipper(ents []models.MessageEntity) *entityClipper {
	sorted := append([]models.MessageEntity(nil), ents...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Offset != sorted[j].Offset {
			return sorted[i].Offset < sorted[j].Offset
		}
		return sorted[i].Length > sorted[j].Length
	})
	return &entityClipper{sorted: sorted}
}

// next returns the entities meeting [lo, hi); ranges must not go backwards.
func (c *entityClipper) next(lo, hi int) []models.MessageEntity {
	for c.added < len(c.sorted) && c.sorted[c.added].Offset < hi {
		c.active = append(c.active, c.sorted[c.added])
		c.added++
	}
	kept := c.active[:0]
	for _, e := range c.active {
		if e.Offset+e.Length > lo {
			kept = append(kept, e)
		}
	}
	c.active = kept
	return kept
}

// utf16Text is a text as runes with the UTF-16 offset of every rune
// boundary: pos[i] is the offset of r[i], pos[len(r)] the total length.
type utf16Text struct {
	r   []rune
	pos []int
}

func newUTF16Text(s string) utf16Text {
	r := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	pos := make([]int, len(r)+1)
	for i, c := range r {
		pos[i+1] = pos[i] + utf16Len(c)
	}
	return utf16Text{r: r, pos: pos}
}

// cut returns where the chunk starting at the non-space rune i ends: a rune
// index c > i with [i, c) at most limit units, at the best boundary found.
func (t utf16Text) cut(i, limit int) int {
	m := i + 1 // runes [i, m) fit; a rune takes at most 2 <= limit units
	for m < len(t.r) && t.pos[m+1]-t.pos[i] <= limit {
		m++
	}
	line, word := -1, -1
	// c is a candidate when a whitespace run starts there; the run decides
	// the kind of break.
	for c := m; c > i; c-- {
		if !unicode.IsSpace(t.r[c]) || unicode.IsSpace(t.r[c-1]) {
			continue
		}
		breaks := 0
		for k := c; k < len(t.r) && unicode.IsSpace(t.r[k]) && breaks < 2; k++ {
			if t.r[k] == '\n' {
				breaks++
			}
		}
		switch {
		case breaks >= 2:
			return c
		case breaks == 1 && line < 0:
			line = c
		case word < 0:
			word = c
		}
	}
	switch {
	case line >= 0:
		return line
	case word >= 0:
		return word
	}
	return m
}

// slice returns runes [s, e) with the entities clipped to them and re-based.
func (t utf16Text) slice(s, e int, entities []models.MessageEntity) chunk {
	c := chunk{Text: string(t.r[s:e])}
	lo, hi := t.pos[s], t.pos[e]
	for _, ent := range entities {
		a, b := max(ent.Offset, lo), min(ent.Offset+ent.Length, hi)
		if b <= a {
			continue
		}
		ra, rb := sort.SearchInts(t.pos, a), sort.SearchInts(t.pos, b)
		if rb > len(t.r) || !waHasText(t.r[ra:rb]) {
			continue
		}
		ent.Offset, ent.Length = a-lo, b-a
		c.Entities = append(c.Entities, ent)
	}
	return c
}

// trimFormatted strips leading and trailing whitespace from a formatted text,
// keeping its entities aligned.
func trimFormatted(text string, entities []models.MessageEntity) (string, []models.MessageEntity) {
	t := newUTF16Text(text)
	s, e := 0, len(t.r)
	for s < e && unicode.IsSpace(t.r[s]) {
		s++
	}
	for e > s && unicode.IsSpace(t.r[e-1]) {
		e--
	}
	c := t.slice(s, e, entities)
	return c.Text, c.Entities
}
