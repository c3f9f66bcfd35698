# benches/report.awk: turns the results.tsv written by overhead.sh into the markdown report
# (tables per connection count, then each target with what was reached).
#
# Input columns (tab-separated): conns group kind requests duration_us p50_us p90_us p99_us
# max_us mean_us errors rss_kb server_cpu_ns mock_cpu_ns (CPU time of the server under test: the
# mock when direct, the nginx proxy worker, the floor proxy or amux; and of the mock). A failed case has FAILED
# in the requests column. A case run in several rounds has several rows; each metric is reported
# as its median over them.
# Variables: rss_idle hwm_idle rss_after hwm_after (kB, from /proc/<pid>/status).

function dialect(group) { return group ~ /^anthropic/ ? "anthropic" : "openai" }
function other(d) { return d == "anthropic" ? "openai" : "anthropic" }
function label(group, kind) {
    if (kind == "direct") return "mock, direct"
    if (kind == "proxy") return "nginx proxy"
    if (kind == "floor") return "hyper floor (bytes, nothing else)"
    if (kind == "same") return "amux, " dialect(group) " caller (bytes)"
    return "amux, " other(dialect(group)) " caller (translated)"
}
function ok(k) { return (k in rps) }
function ms(us) { return sprintf("%.3f", us / 1000) }
function signed_ms(us) { return sprintf("%+.3f", us / 1000) }
function verdict(pass) { return pass ? "**met**" : "**not met**" }

function median(key, field,    n, i, j, v, a) {
    n = cnt[key]
    for (i = 1; i <= n; i++) a[i] = val[key, field, i]
    for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

{
    k = $1 SUBSEP $2 SUBSEP $3
    if (!($1 in seen_c)) { seen_c[$1] = 1; conns[++nc] = $1 }
    if (!($2 in seen_g)) { seen_g[$2] = 1; groups[++ng] = $2 }
    if ($4 == "FAILED") { failed[k] = 1; next }
    n = ++cnt[k]
    if (n > rounds) rounds = n
    val[k, "rps", n] = $4 / ($5 / 1e6)
    val[k, "p50", n] = $6; val[k, "p90", n] = $7; val[k, "p99", n] = $8
    val[k, "cpu", n] = $13 / $4 / 1000; val[k, "mcpu", n] = $14 / $4 / 1000
    errsum[k] += $11
    if ($12 != "-" && $12 + 0 > rss_max) rss_max = $12 + 0
}

END {
    # Each metric is the median over the rounds that completed (a failed round is left out).
    for (k in cnt) {
        rps[k] = median(k, "rps"); p50[k] = median(k, "p50"); p90[k] = median(k, "p90")
        p99[k] = median(k, "p99"); errs[k] = errsum[k]
        cpu[k] = median(k, "cpu"); mcpu[k] = median(k, "mcpu")
    }
    if (rounds > 1) printf "Each figure is the median of %d rounds; errors are summed over the rounds.\n\n", rounds
    kinds[1] = "direct"; kinds[2] = "proxy"; kinds[3] = "floor"; kinds[4] = "same"; kinds[5] = "cross"
    for (ci = 1; ci <= nc; ci++) {
        c = conns[ci]
        printf "### %d connection%s\n\n", c, c == 1 ? "" : "s"
        print "| upstream fixture | path | req/s | p50 ms | p90 ms | p99 ms | added p50 ms | added p99 ms | req/s vs nginx proxy | CPU us/req | mock CPU us/req | errors |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (gi = 1; gi <= ng; gi++) {
            g = groups[gi]
            d = c SUBSEP g SUBSEP "direct"
            p = c SUBSEP g SUBSEP "proxy"
            for (ki = 1; ki <= 5; ki++) {
                k = c SUBSEP g SUBSEP kinds[ki]
                if (!ok(k) && !(k in failed)) continue # not run (ONLY=...)
                if (!ok(k)) {
                    printf "| %s | %s | FAILED | | | | | | | | | |\n", g, label(g, kinds[ki])
                    continue
                }
                add50 = ki > 1 && ok(d) ? signed_ms(p50[k] - p50[d]) : ""
                add99 = ki > 1 && ok(d) ? signed_ms(p99[k] - p99[d]) : ""
                vs = ki > 2 && ok(p) ? sprintf("%.2fx", rps[k] / rps[p]) : ""
                printf "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %d |\n", g, label(g, kinds[ki]),
                    rps[k], ms(p50[k]), ms(p90[k]), ms(p99[k]), add50, add99, vs, cpu[k], mcpu[k], errs[k]
            }
        }
        print ""
    }

    clo = conns[1]; chi = conns[nc]
    print "### Against the targets\n"

    # 1. Same-dialect throughput vs the nginx proxy. Judged at the highest connection count, where
    #    throughput is bound by the server CPU; the lowest is listed too (there it is 1/latency).
    worst = ""; line = ""
    for (ci = nc; ci >= 1; ci--) for (gi = 1; gi <= ng; gi++) {
        c = conns[ci]; g = groups[gi]
        s = c SUBSEP g SUBSEP "same"; p = c SUBSEP g SUBSEP "proxy"
        if (!ok(s) || !ok(p)) continue
        r = rps[s] / rps[p]
        line = line sprintf("%s%s c=%d %.2fx (CPU %.1f vs %.1f us/req)", line == "" ? "" : "; ", g, c, r, cpu[s], cpu[p])
        if (c == chi && (worst == "" || r < worst)) worst = r
    }
    if (worst == "") print "1. Same-dialect throughput >= 0.8x nginx proxy: n/a (no complete pair)"
    else printf "1. Same-dialect throughput >= 0.8x nginx proxy (at %d connections): worst %.2fx, %s. Per fixture, with amux vs nginx-proxy CPU per request: %s\n",
        chi, worst, verdict(worst >= 0.8), line

    # 2. Added latency of the same-dialect path at the lowest connection count.
    w50 = ""; w99 = ""; n50 = ""; n99 = ""
    for (gi = 1; gi <= ng; gi++) {
        g = groups[gi]
        d = clo SUBSEP g SUBSEP "direct"; s = clo SUBSEP g SUBSEP "same"; p = clo SUBSEP g SUBSEP "proxy"
        if (!ok(d)) continue
        if (ok(s)) {
            a = p50[s] - p50[d]; b = p99[s] - p99[d]
            if (w50 == "" || a > w50) w50 = a
            if (w99 == "" || b > w99) w99 = b
        }
        if (ok(p)) {
            a = p50[p] - p50[d]; b = p99[p] - p99[d]
            if (n50 == "" || a > n50) n50 = a
            if (n99 == "" || b > n99) n99 = b
        }
    }
    if (w50 == "") print "2. Added latency (same-dialect): n/a"
    else printf "2. Added latency at %d connection(s), same-dialect, worst fixture: p50 %s ms (target < 0.1: %s), p99 %s ms (target < 1: %s); the nginx proxy adds at worst p50 %s ms, p99 %s ms\n",
        clo, signed_ms(w50), verdict(w50 < 100), signed_ms(w99), verdict(w99 < 1000), signed_ms(n50), signed_ms(n99)

    # 3. Cross-dialect overhead relative to same-dialect overhead, same upstream fixture: added
    #    p50 at the lowest connection count, and amux CPU per request at the highest (all of
    #    amux's CPU is overhead). The verdict takes the worst of both.
    worst = ""; line = ""
    for (gi = 1; gi <= ng; gi++) {
        g = groups[gi]
        d = clo SUBSEP g SUBSEP "direct"; s = clo SUBSEP g SUBSEP "same"; x = clo SUBSEP g SUBSEP "cross"
        if (ok(d) && ok(s) && ok(x) && p50[s] - p50[d] > 0) {
            r = (p50[x] - p50[d]) / (p50[s] - p50[d])
            line = line sprintf("%s%s: added p50 c=%d %.2fx (%s vs %s ms)", line == "" ? "" : "; ", g, clo, r,
                signed_ms(p50[x] - p50[d]), signed_ms(p50[s] - p50[d]))
            if (worst == "" || r > worst) worst = r
        }
        s = chi SUBSEP g SUBSEP "same"; x = chi SUBSEP g SUBSEP "cross"
        if (ok(s) && ok(x) && cpu[s] > 0) {
            r = cpu[x] / cpu[s]
            line = line sprintf("%s%s: CPU c=%d %.2fx (%.1f vs %.1f us/req)", line == "" ? "" : "; ", g, chi, r, cpu[x], cpu[s])
            if (worst == "" || r > worst) worst = r
        }
    }
    if (worst == "") print "3. Cross-dialect overhead <= 1.5x same-dialect: n/a (cross-dialect cases failed or missing)"
    else printf "3. Cross-dialect overhead <= 1.5x same-dialect: worst %.2fx, %s. %s\n", worst, verdict(worst <= 1.5), line

    # 4. Memory.
    printf "4. Idle RSS < 30 MB: %.1f MiB after start (VmHWM %.1f MiB), %s\n", rss_idle / 1024,
        hwm_idle / 1024, verdict(rss_idle < 30 * 1024)
    printf "5. RSS under load (not a target): %.1f MiB at most at the end of a case, VmRSS %.1f MiB after all cases, peak VmHWM %.1f MiB\n",
        rss_max / 1024, rss_after / 1024, hwm_after / 1024

    # 6. amux's own work: CPU per request above the floor (the same HTTP stack forwarding bytes).
    line = ""
    for (gi = 1; gi <= ng; gi++) {
        g = groups[gi]
        f = chi SUBSEP g SUBSEP "floor"; s = chi SUBSEP g SUBSEP "same"; p = chi SUBSEP g SUBSEP "proxy"
        if (ok(f) && ok(s))
            line = line sprintf("%s%s %.1f us/req (amux %.1f, floor %.1f%s)", line == "" ? "" : "; ", g,
                cpu[s] - cpu[f], cpu[s], cpu[f], ok(p) ? sprintf(", nginx proxy %.1f", cpu[p]) : "")
    }
    if (line != "") printf "6. amux's own work (not a target): same-dialect CPU above the hyper floor at %d connections: %s\n", chi, line
}
