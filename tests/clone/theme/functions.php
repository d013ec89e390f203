<?php
add_action('after_setup_theme', function () {
    register_nav_menus(['primary' => 'Primary']);
});
add_action('widgets_init', function () {
    register_sidebar(['id' => 'sidebar-1', 'name' => 'Sidebar']);
});
