# Build: docker build -t turn-telegram .   (or: podman build / buildah bud)
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (the embedded SQLite store included): a static binary. CI runs
# this very line when it cannot build the image (see .ci/run): keep it one line.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/turn-telegram ./cmd/turn-telegram
RUN mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/turn-telegram /turn-telegram
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV DATA_DIR=/data LISTEN_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/turn-telegram"]
CMD ["serve"]
