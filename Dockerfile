# Arbiter: API and worker share one image; ARBITER_ROLE picks the process.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY . .
EXPOSE 8080
USER node
# api/main.ts migrates and serves; worker/main.ts runs workflows and activities.
# The API's node options are those of scripts/node-args.mjs (a larger young generation).
CMD ["sh", "-c", "if [ \"$ARBITER_ROLE\" = worker ]; then exec node --import tsx worker/main.ts; else exec node --max-semi-space-size=32 --import tsx api/main.ts; fi"]
