// Starts the app; a separate file because the Content-Security-Policy allows no inline script.
import init from './pkg/holdfast_app.js';
init();
