# Image for compose.yaml (reference; not built by this repository's checks).
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --uid 10001 --create-home reels && mkdir /data /archive && chown reels /data /archive
USER reels
ENV DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8501 8080
