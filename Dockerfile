# Build: docker build -t turn-telegram .   (or: podman build --format docker / buildah bud --format docker)
# With the version in the binary and the labels (the context has no .git,
# so Go cannot stamp it itself):
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t turn-telegram .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Empty unless given: the binary then says (devel), as without them.
ARG VERSION
ARG REVISION
# Pure Go (the embedded SQLite store included): a static binary. CI runs
# this very line when it cannot build the image (see .ci/run): keep it one
# line, and working with VERSION and REVISION unset.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/turn-telegram/turn-telegram/internal/app.Version=${VERSION:-} -X github.com/turn-telegram/turn-telegram/internal/app.Revision=${REVISION:-}" -o /out/turn-telegram ./cmd/turn-telegram
RUN mkdir -p /out/data

FROM scratch
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="turn-telegram" \
      org.opencontainers.image.description="Bridges Telegram bots to Turn.io's Channel API" \
      org.opencontainers.image.source="https://github.com/turn-telegram/turn-telegram" \
      org.opencontainers.image.version="${VERSION:-(devel)}" \
      org.opencontainers.image.revision="${REVISION:-unknown}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/turn-telegram /turn-telegram
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV DATA_DIR=/data LISTEN_ADDR=:8080
VOLUME /data
EXPOSE 8080
# Ready: the store answers and has every migration (GET /readyz on
# LISTEN_ADDR). No shell or curl in the image: the binary asks itself.
# Start-up applies migrations, hence the start period.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/turn-telegram", "health"]
ENTRYPOINT ["/turn-telegram"]
CMD ["serve"]
