-- wrk script: GET /ping, the plain-Django yardstick.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

function done(summary, latency, requests)
  report(summary, latency)
end
