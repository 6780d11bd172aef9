# One image for the MLflow tracking server and for the experiments: edgekit depends on MLflow,
# so the server and the clients run the same MLflow version. The postgres extra brings psycopg
# for the `postgres` profile of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

WORKDIR /workspace
COPY pyproject.toml README.md ./
COPY edgekit ./edgekit
RUN pip install ".[postgres]"

EXPOSE 5000
CMD ["edgekit", "--help"]
