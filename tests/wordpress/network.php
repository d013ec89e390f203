<?php
// A real WordPress multisite network (Debian's `wordpress` package) on a test server, used
// by tests/wordpress.rs:
//   php network.php SOCKET DB install MODE BASE   single site, then install_network() and
//                                                 populate_network() (MODE: subdomain or
//                                                 subdirectory; BASE: the network's domain)
//   php network.php SOCKET DB fill MODE BASE      sites by wpmu_create_blog(), each filled
//                                                 through WordPress's API
//   php network.php SOCKET DB grow MODE BASE COUNT
//                                                 COUNT more sites (`/sN/` or `sN.BASE`),
//                                                 each with a user of its own and a post
//                                                 linking its home
//   php network.php SOCKET DB serve MODE BASE HOST URI
//                                                 WordPress answers a request for HOST URI as
//                                                 wp-config.php would set it up; prints JSON
// WordPress's globals include `$action` and `$db`: names of our own.
[, $understudy_socket, $understudy_db, $understudy_action, $understudy_mode, $understudy_base] = $argv;
$understudy_serving = $understudy_action === 'serve';
$understudy_host = $understudy_serving ? $argv[6] : 'www.' . $understudy_base;
$understudy_uri = $understudy_serving ? $argv[7] : '/';

// Every notice and warning, `@`-silenced ones included (WordPress calls `@unserialize`).
// Not deprecations: Debian's WordPress is older than its PHP.
$understudy_notices = [];
set_error_handler(function ($no, $message, $file, $line) use (&$understudy_notices) {
    $understudy_notices[] = "$message ($file:$line)";
    return true;
}, E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);

define('DB_NAME', $understudy_db);
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:' . $understudy_socket);
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
          'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {
    define($key, 'test');
}
$table_prefix = 'wp_';
$_SERVER['HTTP_HOST'] = $understudy_host;
$_SERVER['SERVER_NAME'] = $understudy_host;
$_SERVER['REQUEST_URI'] = $understudy_uri;
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['HTTPS'] = 'on';
define('ABSPATH', getenv('WORDPRESS_DIR') ?: '/usr/share/wordpress/');
if ($understudy_action === 'install') {
    define('WP_INSTALLING', true);
} else {
    // What wp-config.php says once the network is installed.
    define('MULTISITE', true);
    define('SUBDOMAIN_INSTALL', $understudy_mode === 'subdomain');
    define('DOMAIN_CURRENT_SITE', $understudy_base);
    define('PATH_CURRENT_SITE', '/');
    define('SITE_ID_CURRENT_SITE', 1);
    define('BLOG_ID_CURRENT_SITE', 1);
}
// The installer mails the administrator; there is no mailer here.
function wp_mail() {
    return true;
}
// Nothing leaves the machine (populate_network() probes a random subdomain).
$understudy_served = false;
register_shutdown_function(function () use (&$understudy_served) {
    if (!$understudy_served) {
        // ms-settings.php exits after a redirect to wp-signup.php when no site has the host.
        fwrite(STDERR, "WordPress stopped before serving: " . implode(' ', headers_list()) . "\n");
        exit(3);
    }
});
require ABSPATH . 'wp-settings.php';
add_filter('pre_http_request', fn () => ['response' => ['code' => 200, 'message' => 'OK'],
    'body' => '', 'headers' => [], 'cookies' => []]);

if ($understudy_action === 'install') {
    global $wpdb;
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    $url = "https://www.$understudy_base";
    wp_install('Network', 'admin', "admin@$understudy_base", true, '', 'admin-pass');
    update_option('siteurl', $url);
    update_option('home', $url);
    // As wp-admin/network.php does before it installs the network's tables.
    foreach ($wpdb->tables('ms_global') as $table => $prefixed) {
        $wpdb->$table = $prefixed;
    }
    install_network();
    $result = populate_network(1, $understudy_base, "admin@$understudy_base", 'Network', '/',
        $understudy_mode === 'subdomain');
    if (is_wp_error($result) && $result->get_error_code() !== 'no_wildcard_dns') {
        fwrite(STDERR, $result->get_error_message() . "\n");
        exit(1);
    }
    $understudy_served = true;
    exit(0);
}

/// The sites of the network: [domain, path, title].
function understudy_sites($mode, $base) {
    $sites = [];
    foreach (['de', 'shop'] as $label) {
        $sites[] = $mode === 'subdomain' ? ["$label.$base", '/', strtoupper($label)]
            : [$base, "/$label/", strtoupper($label)];
    }
    // A domain-mapped site: a host of its own.
    $sites[] = ['shop-brand.example', '/', 'Brand'];
    return $sites;
}

if ($understudy_action === 'fill') {
    $admin = get_user_by('login', 'admin')->ID;
    $ids = [1];
    foreach (understudy_sites($understudy_mode, $understudy_base) as [$domain, $path, $title]) {
        $id = wpmu_create_blog($domain, $path, $title, $admin, [], 1);
        if (is_wp_error($id)) {
            fwrite(STDERR, "$domain$path: " . $id->get_error_message() . "\n");
            exit(1);
        }
        $ids[] = $id;
    }
    $homes = array_map(fn ($id) => get_home_url($id), $ids);
    foreach ($ids as $i => $id) {
        switch_to_blog($id);
        $others = array_values(array_diff($homes, [$homes[$i]]));
        $links = implode(' ', array_map(fn ($h) => "<a href=\"$h/about/\">$h</a>", $others));
        wp_insert_post([
            'post_title' => "Hello from site $id",
            'post_content' => "<p>Our sister sites: $links</p>",
            'post_status' => 'publish', 'post_author' => $admin,
        ]);
        // A text widget in the first sidebar, linking the next site.
        $next = $homes[($i + 1) % count($homes)];
        update_option('widget_text', [
            2 => ['title' => 'Sister', 'text' => "Visit <a href=\"$next/\">our sister</a>", 'filter' => false],
            '_multiwidget' => 1,
        ]);
        update_option('sidebars_widgets', ['wp_inactive_widgets' => [], 'sidebar-1' => ['text-2'],
            'array_version' => 3]);
        update_option('understudy_links', ['sites' => $others, 'nested' => serialize(['home' => $homes[$i]])]);
        // A nav menu with custom links to every site.
        $menu = wp_create_nav_menu('Main');
        foreach ($homes as $k => $home) {
            wp_update_nav_menu_item($menu, 0, ['menu-item-title' => "Site $k",
                'menu-item-url' => "$home/", 'menu-item-type' => 'custom', 'menu-item-status' => 'publish']);
        }
        restore_current_blog();
    }
    $understudy_served = true;
    exit(0);
}

if ($understudy_action === 'grow') {
    $admin = get_user_by('login', 'admin')->ID;
    $count = (int) $argv[6];
    for ($n = 1; $n <= $count; $n++) {
        [$domain, $path] = $understudy_mode === 'subdomain' ? ["s$n.$understudy_base", '/']
            : [$understudy_base, "/s$n/"];
        $user = wpmu_create_user("user$n", "pass-$n", "person$n@mail.example.net");
        $id = wpmu_create_blog($domain, $path, "Site $n", $user ?: $admin, [], 1);
        if (is_wp_error($id)) {
            fwrite(STDERR, "$domain$path: " . $id->get_error_message() . "\n");
            exit(1);
        }
        switch_to_blog($id);
        $home = home_url();
        wp_insert_post([
            'post_title' => "Hello from site $n",
            'post_content' => "<p>Our home: <a href=\"$home/about/\">$home</a></p>",
            'post_status' => 'publish', 'post_author' => $admin,
        ]);
        update_option('understudy_links', ['sites' => [$home], 'nested' => serialize(['home' => $home])]);
        restore_current_blog();
    }
    $understudy_served = true;
    exit(0);
}

// serve: the request as WordPress answers it, redirects caught.
$redirects = [];
add_filter('wp_redirect', function ($location) use (&$redirects) {
    $redirects[] = $location;
    return false;
});
wp();
do_action('template_redirect');
// Sites made by `grow` have no widget.
$widget = get_option('widget_text')[2] ?? null;
ob_start();
if ($widget !== null) {
    the_widget('WP_Widget_Text', $widget, ['before_widget' => '<div>', 'after_widget' => '</div>']);
}
$widget_html = ob_get_clean();
$posts = get_posts(['numberposts' => -1]);
$links = get_option('understudy_links');
$understudy_served = true;
echo json_encode([
    'blog_id' => get_current_blog_id(),
    'home' => home_url(),
    'siteurl' => site_url(),
    'redirects' => $redirects,
    'widget' => $widget_html,
    'menu' => wp_nav_menu(['menu' => 'Main', 'echo' => false, 'fallback_cb' => false]),
    'posts' => array_map(fn ($p) => apply_filters('the_content', $p->post_content), $posts),
    'links' => array_merge($links['sites'], [unserialize($links['nested'])['home']]),
    'notices' => $understudy_notices,
]), "\n";
