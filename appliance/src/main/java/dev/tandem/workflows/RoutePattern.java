package dev.tandem.workflows;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A workflow route such as {@code POST /pools/{pool}/allocations}: {param} matches one path segment. */
public record RoutePattern(int index, String method, String pattern, Pattern regex, List<String> params, String policy) {
    private static final Pattern PARAM = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

    /** Where the route runs on a node that is not primary: "local", "primary" (forwarded) or "reject". */
    public static RoutePattern compile(int index, String method, String pattern, String policy) {
        StringBuilder re = new StringBuilder("^");
        List<String> names = new ArrayList<>();
        Matcher m = PARAM.matcher(pattern);
        int at = 0;
        while (m.find()) {
            re.append(Pattern.quote(pattern.substring(at, m.start()))).append("([^/]+)");
            names.add(m.group(1));
            at = m.end();
        }
        re.append(Pattern.quote(pattern.substring(at)));
        // "/items" and "/items/" are the same route
        if (pattern.length() > 1 && pattern.endsWith("/")) {
            re.setLength(re.length() - "/\\E".length());
            re.append("\\E");
        }
        re.append(pattern.length() > 1 ? "/?$" : "$");
        return new RoutePattern(index, method, pattern, Pattern.compile(re.toString()), List.copyOf(names), policy);
    }

    /** The path parameters when {@code path} matches, else null. */
    public Map<String, String> match(String path) {
        Matcher m = regex.matcher(path);
        if (!m.matches()) return null;
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put(params.get(i), URLDecoder.decode(m.group(i + 1), StandardCharsets.UTF_8));
        }
        return out;
    }
}
