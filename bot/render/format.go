package render

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// formatWhatsApp converts Turn's WhatsApp-style markup into plain text and
// Telegram entities (offsets and lengths in UTF-16 code units). It never
// relies on a parse mode, so no input can make Telegram refuse the message
// with "can't parse entities"; markers that do not pair stay as literal text.
//
// The rules are WhatsApp's, not CommonMark's: *bold*, _italic_, ~strike~,
// `code`, ```pre``` (may span lines), "> " quote lines (consecutive lines
// merge), "- " and "* " bullets shown as "• ", numbered lists kept. Inline
// markers pair only when they hug non-space text at word boundaries, within
// one line; nothing inside code is formatted.
func formatWhatsApp(s string) (text string, entities []models.MessageEntity) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	f := waFormatter{r: []rune(s)}
	f.skip = make([]bool, len(f.r))
	f.lit = make([]bool, len(f.r))
	f.preBlocks()
	f.lines()
	return f.emit()
}

// waSpan is an entity over source rune indices [start, end).
type waSpan struct {
	typ        models.MessageEntityType
	start, end int
}

// waFormatter works on the source runes: markers are marked skip (dropped
// from the output), runes that must not be interpreted again are marked lit.
// Bullets are replaced in place, rune for rune, so indices stay valid.
type waFormatter struct {
	r     []rune
	skip  []bool
	lit   []bool
	spans []waSpan
}

// at returns the rune at i, or a space outside the text (start and end of
// text count as whitespace for the word-boundary rules).
func (f *waFormatter) at(i int) rune {
	if i < 0 || i >= len(f.r) {
		return ' '
	}
	return f.r[i]
}

func (f *waFormatter) isTriple(i int) bool {
	return i+2 < len(f.r) && f.r[i] == '`' && f.r[i+1] == '`' && f.r[i+2] == '`'
}

// preBlocks pairs ``` fences first: they may span lines and their content is
// never interpreted, so everything else works around them.
func (f *waFormatter) preBlocks() {
	n := len(f.r)
	for i := 0; i < n; i++ {
		if !f.isTriple(i) {
			continue
		}
		j := i + 3
		for j < n && !f.isTriple(j) {
			j++
		}
		if j >= n {
			return // no closing fence anywhere: no later opener can pair either
		}
		if !waHasText(f.r[i+3 : j]) {
			i = j - 1 // "``` ```": literal; the second fence may still open
			continue
		}
		for k := i; k < j+3; k++ {
			f.lit[k] = true
		}
		f.skip[i], f.skip[i+1], f.skip[i+2] = true, true, true
		f.skip[j], f.skip[j+1], f.skip[j+2] = true, true, true
		// The fences usually sit on their own lines; the block entity need
		// not cover those line breaks (leading spaces are kept: indentation).
		s, e := i+3, j
		for s < e && f.r[s] == '\n' {
			s++
		}
		for e > s && f.r[e-1] == '\n' {
			e--
		}
		f.spans = append(f.spans, waSpan{models.MessageEntityTypePre, s, e})
		i = j + 2
	}
}

// lines handles line-level markup. A pre block is part of the line it starts
// in, so a quote line containing one covers it whole (no partial overlap).
func (f *waFormatter) lines() {
	quoteStart, quoteEnd := -1, -1
	flush := func() {
		if quoteStart >= 0 {
			f.spans = append(f.spans, waSpan{models.MessageEntityTypeBlockquote, quoteStart, quoteEnd})
			quoteStart = -1
		}
	}
	start := 0
	for i := 0; i <= len(f.r); i++ {
		if i < len(f.r) && (f.r[i] != '\n' || f.lit[i]) {
			continue
		}
		p := start
		if p+1 < i && f.r[p] == '>' && f.r[p+1] == ' ' && !f.lit[p] && !f.lit[p+1] {
			f.skip[p], f.skip[p+1] = true, true
			f.lit[p], f.lit[p+1] = true, true
			p += 2
			if quoteStart < 0 {
				quoteStart = p
			}
			quoteEnd = i
		} else {
			flush()
		}
		q := p
		for q < i && (f.r[q] == ' ' || f.r[q] == '\t') && !f.lit[q] {
			q++
		}
		if q+1 < i && (f.r[q] == '-' || f.r[q] == '*') && f.r[q+1] == ' ' && !f.lit[q] && !f.lit[q+1] {
			f.r[q] = '•'
			f.lit[q] = true
			p = q + 2
		}
		// Inline markup works on the runs between pre blocks.
		seg := -1
		for k := p; k <= i; k++ {
			if k == i || f.lit[k] {
				if seg >= 0 {
					f.inline(seg, k)
					seg = -1
				}
				continue
			}
			if seg < 0 {
				seg = k
			}
		}
		start = i + 1
	}
	flush()
}

// inline pairs *, _, ~ and ` within r[a:b] by WhatsApp's rules: an opener is
// followed by non-space and not preceded by a letter or digit; a closer is
// preceded by non-space and not followed by one. Stack matching keeps the
// spans properly nested: openers left inside a closed pair stay literal.
// It runs in linear time, whatever the input.
func (f *waFormatter) inline(a, b int) {
	type opener struct {
		i    int
		c    rune
		prev int // stack index of the next opener below with the same marker
	}
	var stack []opener
	top := map[rune]int{'*': -1, '_': -1, '~': -1} // topmost opener per marker
	// codeEnd[j] is the first backtick at or after j that can close code
	// (backticks in runs, like an unpaired ```, stay literal).
	codeEnd := make([]int, b-a+1)
	codeEnd[b-a] = -1
	for j := b - 1; j >= a; j-- {
		codeEnd[j-a] = codeEnd[j-a+1]
		if j > a && f.r[j] == '`' && !unicode.IsSpace(f.r[j-1]) && f.r[j-1] != '`' &&
			(j+1 == b || (!waWordRune(f.r[j+1]) && f.r[j+1] != '`')) {
			codeEnd[j-a] = j
		}
	}
	for i := a; i < b; i++ {
		c := f.r[i]
		if c != '*' && c != '_' && c != '~' && c != '`' {
			continue
		}
		prev, next := f.at(i-1), f.at(i+1)
		if i == a {
			prev = ' '
		}
		if i+1 == b {
			next = ' '
		}
		canOpen := !unicode.IsSpace(next) && !waWordRune(prev)
		canClose := !unicode.IsSpace(prev) && !waWordRune(next)
		if c == '`' {
			// Code is atomic: the first backtick that can close ends it.
			if !canOpen || next == '`' || prev == '`' || i+2 > b {
				continue
			}
			if j := codeEnd[i+2-a]; j >= 0 {
				f.skip[i], f.skip[j] = true, true
				for k := i; k <= j; k++ {
					f.lit[k] = true
				}
				f.spans = append(f.spans, waSpan{models.MessageEntityTypeCode, i + 1, j})
				i = j
			}
			continue
		}
		if k := top[c]; canClose && k >= 0 && stack[k].i < i-1 {
			f.skip[stack[k].i], f.skip[i] = true, true
			f.spans = append(f.spans, waSpan{waMarkerType(c), stack[k].i + 1, i})
			for len(stack) > k {
				o := stack[len(stack)-1]
				top[o.c] = o.prev
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if canOpen {
			stack = append(stack, opener{i, c, top[c]})
			top[c] = len(stack) - 1
		}
	}
}

func waMarkerType(c rune) models.MessageEntityType {
	switch c {
	case '*':
		return models.MessageEntityTypeBold
	case '_':
		return models.MessageEntityTypeItalic
	}
	return models.MessageEntityTypeStrikethrough
}

// waWordRune reports whether r is part of a word, next to which markers stay
// literal (2*3*4, snake_case_name).
func waWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func waHasText(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

// emit writes the kept runes and converts spans to UTF-16 entities.
func (f *waFormatter) emit() (string, []models.MessageEntity) {
	var b strings.Builder
	b.Grow(len(f.r))
	pos := make([]int, len(f.r)+1) // UTF-16 offset in the output before rune i
	u := 0
	for i, r := range f.r {
		pos[i] = u
		if !f.skip[i] {
			b.WriteRune(r)
			u += utf16Len(r)
		}
	}
	pos[len(f.r)] = u
	text := b.String()
	ents := make([]models.MessageEntity, 0, len(f.spans))
	for _, s := range f.spans {
		ents = append(ents, models.MessageEntity{Type: s.typ, Offset: pos[s.start], Length: pos[s.end] - pos[s.start]})
	}
	return text, normalizeEntities(text, ents)
}

// utf16Len is the number of UTF-16 code units encoding r.
func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// utf16Count is the length of s in UTF-16 code units, Telegram's measure.
func utf16Count(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Len(r)
	}
	return n
}

// entityRank orders entities sharing a range so that containers come first.
// Types it does not list (rank 0) sort by name.
var entityRank = map[models.MessageEntityType]int{
	models.MessageEntityTypeBlockquote:    1,
	models.MessageEntityTypeBold:          2,
	models.MessageEntityTypeItalic:        3,
	models.MessageEntityTypeStrikethrough: 4,
	models.MessageEntityTypePre:           5,
	models.MessageEntityTypeCode:          6,
}

// normalizeEntities returns ents sorted (by offset, outer first), without
// duplicates and without entities Telegram would refuse: empty, out of the
// text, of whitespace only, or partially overlapping an earlier one.
func normalizeEntities(text string, ents []models.MessageEntity) []models.MessageEntity {
	if len(ents) == 0 {
		return nil
	}
	units := []rune(text)
	pos := make([]int, len(units)+1)
	for i, r := range units {
		pos[i+1] = pos[i] + utf16Len(r)
	}
	total := pos[len(units)]
	sorted := append([]models.MessageEntity(nil), ents...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		if a.Length != b.Length {
			return a.Length > b.Length
		}
		if entityRank[a.Type] != entityRank[b.Type] {
			return entityRank[a.Type] < entityRank[b.Type]
		}
		return a.Type < b.Type
	})
	var out []models.MessageEntity
	var open []models.MessageEntity // enclosing entities of the current one
	for _, e := range sorted {
		if e.Length <= 0 || e.Offset < 0 || e.Offset+e.Length > total {
			continue
		}
		s := sort.SearchInts(pos, e.Offset)
		end := sort.SearchInts(pos, e.Offset+e.Length)
		if pos[s] != e.Offset || pos[end] != e.Offset+e.Length || !waHasText(units[s:end]) {
			continue // inside a surrogate pair, or only whitespace
		}
		for len(open) > 0 && open[len(open)-1].Offset+open[len(open)-1].Length <= e.Offset {
			open = open[:len(open)-1]
		}
		if len(open) > 0 {
			top := open[len(open)-1]
			if top == e || e.Offset+e.Length > top.Offset+top.Length {
				continue // duplicate, or crosses the end of an enclosing one
			}
		}
		open = append(open, e)
		out = append(out, e)
	}
	return out
}
