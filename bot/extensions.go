package bot

import (
	"cmp"
	"mime"
	"slices"
	"strings"
)

// preferredExtensions name unnamed files (a document from Telegram without
// a file name, an upload to Telegram of a Turn file without one) by their
// MIME type. A fixed table first: mime.ExtensionsByType answers in
// alphabetical order from the host's mime.types files, which gave
// file.jfif, file.oga, file.f4v and file.asc.
var preferredExtensions = map[string]string{
	"application/octet-stream":      "", // unknown bytes: no extension is better than .bin
	"application/pdf":               ".pdf",
	"application/zip":               ".zip",
	"application/gzip":              ".gz",
	"application/json":              ".json",
	"application/xml":               ".xml",
	"application/msword":            ".doc",
	"application/rtf":               ".rtf",
	"application/vnd.ms-excel":      ".xls",
	"application/vnd.ms-powerpoint": ".ppt",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.oasis.opendocument.text":                                   ".odt",
	"application/vnd.oasis.opendocument.spreadsheet":                            ".ods",
	"application/vnd.android.package-archive":                                   ".apk",
	"application/x-7z-compressed":                                               ".7z",
	"application/x-rar-compressed":                                              ".rar",
	"application/vnd.rar":                                                       ".rar",
	"text/plain":                                                                ".txt",
	"text/csv":                                                                  ".csv",
	"text/html":                                                                 ".html",
	"text/markdown":                                                             ".md",
	"text/calendar":                                                             ".ics",
	"text/vcard":                                                                ".vcf",
	"text/x-vcard":                                                              ".vcf",
	"image/jpeg":                                                                ".jpg",
	"image/png":                                                                 ".png",
	"image/gif":                                                                 ".gif",
	"image/webp":                                                                ".webp",
	"image/heic":                                                                ".heic",
	"image/bmp":                                                                 ".bmp",
	"image/tiff":                                                                ".tiff",
	"image/svg+xml":                                                             ".svg",
	"video/mp4":                                                                 ".mp4",
	"video/quicktime":                                                           ".mov",
	"video/webm":                                                                ".webm",
	"video/3gpp":                                                                ".3gp",
	"video/mpeg":                                                                ".mpeg",
	"audio/mpeg":                                                                ".mp3",
	"audio/mp3":                                                                 ".mp3",
	"audio/ogg":                                                                 ".ogg",
	"audio/opus":                                                                ".opus",
	"audio/mp4":                                                                 ".m4a",
	"audio/x-m4a":                                                               ".m4a",
	"audio/aac":                                                                 ".aac",
	"audio/amr":                                                                 ".amr",
	"audio/wav":                                                                 ".wav",
	"audio/x-wav":                                                               ".wav",
	"audio/webm":                                                                ".weba",
}

// extensionFor is the extension a file of mimeType is named with: the
// table's, else the shortest the system knows (alphabetical among equals),
// else none.
func extensionFor(mimeType string) string {
	base, _, _ := strings.Cut(mimeType, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	if ext, ok := preferredExtensions[base]; ok {
		return ext
	}
	exts, _ := mime.ExtensionsByType(base)
	if len(exts) == 0 {
		return ""
	}
	return slices.MinFunc(exts, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
}
