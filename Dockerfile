# The AWET daemon image: the single binary from `npm run build` (dist/awet), nothing else.
# Build the binary first (npm install && npm run build), then: docker build -t awet .
FROM debian:bookworm-slim
RUN useradd --system --home /data --create-home awet
COPY dist/awet /usr/local/bin/awet
USER awet
WORKDIR /data
ENV AWET_HOME=/data AWET_HTTP_HOST=0.0.0.0 AWET_HTTP_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["awet", "health", "--url", "http://127.0.0.1:8000"]
ENTRYPOINT ["awet"]
CMD ["start"]
