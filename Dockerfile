FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    FITPROBE_DATA_DIR=/app/data

# bubblewrap sandboxes the probes; it needs user namespaces (e.g. `docker run
# --security-opt seccomp=unconfined`), else probes fall back to resource limits and
# every report says so.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap=0.8.0-2+deb12u1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt constraints.txt ./
# The code stays owned by root (read-only for the app); only data/ is writable.
RUN pip install --no-cache-dir -r requirements.txt \
    && useradd --create-home --uid 10001 fitprobe
COPY . .
RUN mkdir -p data && chown fitprobe:fitprobe data
USER 10001
# The probe history (SQLite): mount a volume here to keep it across containers, or
# set FITPROBE_DATABASE_URL to keep it in PostgreSQL.
VOLUME ["/app/data"]

EXPOSE 8501
# `serve` starts the warm pool of probe workers, then `streamlit run app.py`. With
# FITPROBE_QUEUE_URL set, the same image runs queue workers: `python -m diagnostics worker`.
CMD ["python", "-m", "diagnostics", "serve", "--server.address", "0.0.0.0"]
