using System.Net;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Serving;

/// <summary>
/// The checks every request to one of the program's servers passes before the server sees it, in
/// this order; the first that fails answers with a JSON error:
/// <list type="number">
/// <item>the Host header names this server (a loopback name or address when it listens on loopback),
/// else 403 <c>forbidden_host</c>: a web site that points its own name at 127.0.0.1 (DNS rebinding)
/// is turned away;</item>
/// <item>an Origin header, when present, is this server's own origin, else 403 <c>forbidden_origin</c>:
/// scripts of other sites get nothing;</item>
/// <item>the access token, when the server has one, came as <c>Authorization: Bearer</c>, as the
/// page's cookie, or (pages only) as <c>?token=</c>, which sets that cookie; else 401
/// <c>unauthorized</c>;</item>
/// <item>a request with a body (POST, PUT, PATCH) says <c>Content-Type: application/json</c>, else
/// 415: a plain HTML form on another site cannot send one.</item>
/// </list>
/// Every answer, refusals included, carries headers that keep it out of other sites' frames, caches
/// and referrers, and a Content-Security-Policy that allows nothing (a page sets its own).
/// </summary>
internal static class AccessGuard
{
    public const string DefaultPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Middleware that applies <paramref name="access"/>, then calls the server.</summary>
    public static Func<HttpContext, RequestDelegate, Task> For(ServerAccess access) => async (context, next) =>
    {
        SetSecurityHeaders(context.Response);
        ApiError? refusal = Check(context, access);
        if (refusal is not null)
        {
            await JsonApi.WriteErrorAsync(context, refusal, null).ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    };

    public static void SetSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = DefaultPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
    }

    /// <summary>The refusal of the first check that fails, or null when the request may go on.</summary>
    public static ApiError? Check(HttpContext context, ServerAccess access)
    {
        var request = context.Request;
        string host = request.Host.Host;
        if (!HostAllowed(host, access.Host))
        {
            return new ApiError(StatusCodes.Status403Forbidden,
                $"This server answers requests addressed to {AllowedHosts(access.Host)}, not '{host}'; open it by the address it printed.",
                null, "forbidden_host");
        }
        if (request.Headers.Origin.Count > 0)
        {
            string origin = request.Headers.Origin.ToString();
            string own = $"{request.Scheme}://{request.Host.Value}";
            if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
            {
                return new ApiError(StatusCodes.Status403Forbidden,
                    $"Requests from pages of another origin ('{origin}') are refused; only this server's own page ({own}) may call it.",
                    null, "forbidden_origin");
            }
        }
        if (access.Token is { } token && !access.OpenPaths.Contains(request.Path.Value ?? "/") && !Authorized(context, access, token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            string page = access.Cookie is null ? "" : ", or open the printed link (it ends in ?token=...)";
            return new ApiError(StatusCodes.Status401Unauthorized,
                $"This server needs its access token ({access.TokenHint}): send Authorization: Bearer TOKEN{page}.", null, "unauthorized");
        }
        if ((HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method)) && !IsJson(request.ContentType))
        {
            return new ApiError(StatusCodes.Status415UnsupportedMediaType,
                $"The body must be JSON sent with Content-Type: application/json, not {(request.ContentType is { Length: > 0 } t ? $"'{t}'" : "no Content-Type")}.",
                null, "unsupported_media_type");
        }
        return null;
    }

    /// <summary>The cookie that keeps a page's token on <paramref name="port"/>.</summary>
    public static string CookieName(string prefix, int port) => $"{prefix}_{port}";

    private static bool Authorized(HttpContext context, ServerAccess access, string token)
    {
        var request = context.Request;
        string authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && AccessToken.Matches(token, authorization["Bearer ".Length..].Trim()))
            return true;
        if (access.Cookie is not { } prefix)
            return false;
        string cookie = CookieName(prefix, context.Connection.LocalPort);
        if (request.Cookies.TryGetValue(cookie, out var fromCookie) && AccessToken.Matches(token, fromCookie))
            return true;
        if (request.Query.TryGetValue("token", out var fromQuery) && AccessToken.Matches(token, fromQuery.ToString()))
        {
            // The link printed at start carries the token; the cookie keeps it for the page's own requests.
            context.Response.Cookies.Append(cookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
            return true;
        }
        return false;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase);

    // A loopback bind answers only loopback names; a bind to one address, that address; a bind to
    // every address, any address literal, a loopback name or this machine's name. A name other than
    // these is what a DNS rebinding attack sends.
    internal static bool HostAllowed(string host, IPAddress bound)
    {
        if (host.Length == 0)
            return false;
        string bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        bool wildcard = bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any);
        if (IPAddress.TryParse(bare, out var literal))
        {
            if (IPAddress.IsLoopback(bound))
                return IPAddress.IsLoopback(literal);
            return wildcard || literal.Equals(bound);
        }
        if (string.Equals(bare, "localhost", StringComparison.OrdinalIgnoreCase))
            return IPAddress.IsLoopback(bound) || wildcard;
        return wildcard && string.Equals(bare, Dns.GetHostName(), StringComparison.OrdinalIgnoreCase);
    }

    private static string AllowedHosts(IPAddress bound)
    {
        if (IPAddress.IsLoopback(bound))
            return "localhost or a loopback address (127.0.0.1, [::1])";
        if (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any))
            return $"an IP address, localhost or this machine's name ({Dns.GetHostName()})";
        return bound.ToString();
    }
}
